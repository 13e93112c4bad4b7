//! What drawing each round at the barrier costs: a correct stack (a `Mutex<Vec>`) whose `Pop`
//! needs an element, called from 1, 2, 3 and 4 threads (or the counts given), its rounds drawn
//! as parallel programs from the states the previous round may have ended in. Prints each
//! run's throughput and how much of the asked rounds was drawn (the interleaving search's state
//! budget ends branches early).
//!
//! `cargo run --release --example stress_drawn -- 1 2 3 4` (`ops=N` sets the operations per
//! run, 200,000 by default; `round=N` the operations per thread per round, 16 by default;
//! `pop=N` the weight of `Pop` against 1 for `Push`, 2 by default: a `Pop` some interleaving
//! could not run is not drawn, so at even weights pushes win and the stack, and with it the
//! cost of every model state the search visits, grows all run long).

use stateprop::prelude::*;
use stateprop::stress::{Stress, StressPlan};
use stateprop::ConcurrentSystem;
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Stack(Vec<u32>);

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Stack)]
enum StackOp {
    Push {
        #[strategy(0..1000u32)]
        value: u32,
    },
    #[rule(precondition = |m: &Stack| !m.0.is_empty())]
    Pop,
}

impl Model for Stack {
    type Op = StackOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.0.push(value);
                None
            }
            StackOp::Pop => Some(self.0.pop().expect("a `Pop` runs on a non-empty stack")),
        }
    }
}

#[derive(Default)]
struct LockedStack(Mutex<Vec<u32>>);

impl ConcurrentSystem<Stack> for LockedStack {
    fn apply(&self, op: &StackOp) -> Option<u32> {
        let mut v = self.0.lock().unwrap();
        match *op {
            StackOp::Push { value } => {
                v.push(value);
                None
            }
            StackOp::Pop => v.pop(),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: u64| {
        (args.iter())
            .find_map(|a| a.strip_prefix(name)?.parse().ok())
            .unwrap_or(default)
    };
    let (ops, round) = (arg("ops=", 200_000), arg("round=", 16) as u32);
    let pop = arg("pop=", 2) as u32;
    let mut counts: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if counts.is_empty() {
        counts = vec![1, 2, 3, 4];
    }
    for threads in counts {
        let plan = StressPlan::operations(ops)
            .threads(threads)
            .round(round)
            .weight("Push", 1)
            .weight("Pop", pop)
            .seed(1);
        let result = Stress::<Stack, LockedStack>::new(plan)
            .quiet()
            .run_concurrent(LockedStack::default)
            .expect("a valid plan");
        let drawn = (result.notes.iter())
            .find(|n| n.contains("drawn at the barrier"))
            .map_or("", String::as_str);
        println!(
            "stateprop: {threads} thread(s), rounds of {round}: {} operations in {:.2} s, {:.0} \
             ops/s, {}\n{drawn}",
            result.operations, result.elapsed_secs, result.throughput, result.verdict,
        );
        assert!(result.passed(), "{}", result.text());
    }
}
