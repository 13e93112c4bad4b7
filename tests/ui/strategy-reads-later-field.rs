use stateprop::prelude::*;

#[derive(Clone, Debug, Default)]
struct M;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = M)]
enum Op {
    Range {
        #[strategy(|_m: &M, hi: &u32| 0..=*hi)]
        lo: u32,
        #[strategy(0..100u32)]
        hi: u32,
    },
}

impl Model for M {
    type Op = Op;
    type Output = ();

    fn step(&mut self, _: &Op) {}
}

fn main() {}
