use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(modle = Kv)]
enum KvOp {
    Get { key: u8 },
}

fn main() {}
