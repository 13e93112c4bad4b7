use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct Kv {
    len: usize,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Kv, crate = "::stateprop")]
enum KvOp {
    #[rule(weight = 0, precondition = |m: &Kv| m.len > 0)]
    Put {
        #[rule(weight = 1)]
        key: u8,
    },
    #[rule(wieght = 3)]
    Get {
        #[strategy]
        key: u8,
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
