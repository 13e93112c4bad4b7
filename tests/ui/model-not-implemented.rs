use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp {
    Get { key: u8 },
}

fn main() {}
