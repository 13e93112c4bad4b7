use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Clone, Debug)]
struct Handle(u32);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp {
    Close {
        #[strategy(Just(Handle(0)))]
        handle: Handle,
    },
}

impl Model for Kv {
    type Op = KvOp;
    type Output = Option<u32>;

    fn step(&mut self, _: &KvOp) -> Option<u32> {
        None
    }
}

fn main() {}
