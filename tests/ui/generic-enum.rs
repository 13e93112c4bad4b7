use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp<K> {
    Get { key: K },
}

fn main() {}
