use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

struct Other;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp {
    #[rule(precondition = |o: &Other| true)]
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
