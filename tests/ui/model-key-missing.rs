use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(crate = "stateprop")]
enum KvOp {
    Get { key: u8 },
}

fn main() {}
