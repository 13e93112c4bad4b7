use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum KvOp {
    Get { key: u8 },
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv)]
enum OtherOp {
    Put { key: u8 },
}

impl Model for Kv {
    type Op = KvOp;
    type Output = ();

    fn step(&mut self, _: &KvOp) {}
}

fn main() {}
