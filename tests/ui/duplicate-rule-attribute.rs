use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp {
    #[rule(weight = 2)]
    #[rule(precondition = |m: &Kv| m.len > 0)]
    Put { key: u8, value: u32 },
    Get { key: u8 },
}

impl Model for Kv {
    type Op = KvOp;
    type Output = Option<u32>;

    fn step(&mut self, _: &KvOp) -> Option<u32> {
        None
    }
}

fn main() {}
