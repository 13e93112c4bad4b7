//! Fields whose strategy reads fields drawn before them, and what keeps their relation while
//! shrinking.

use stateprop::prelude::*;
use stateprop::{Runner, StateMachine};

#[derive(Debug, Clone, Default)]
pub struct Wallet;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Wallet)]
pub enum PayOp {
    /// `amount` is drawn no larger than `balance`; the precondition keeps it so while the two
    /// shrink apart (`balance` toward 0, `amount` toward 0, each on its own).
    #[rule(precondition = |_m: &Wallet, balance: &u32, amount: &u32| amount <= balance)]
    Pay {
        #[strategy(0..1000u32)]
        balance: u32,
        #[strategy(|_m: &Wallet, balance: &u32| 0..=*balance)]
        amount: u32,
    },
}

impl Model for Wallet {
    type Op = PayOp;
    type Output = bool;
    fn step(&mut self, _: &PayOp) -> bool {
        true
    }
}

/// Refuses payments of 5 or more.
#[derive(Default)]
pub struct Stingy;

impl System<Wallet> for Stingy {
    fn apply(&mut self, op: &PayOp) -> bool {
        let PayOp::Pay { amount, .. } = op;
        *amount < 5
    }
}

#[test]
fn a_dependent_field_never_exceeds_the_field_it_reads() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..300 {
        let op = crate::generate::<Wallet>(&mut runner, 0, &Wallet, &[]).unwrap();
        let PayOp::Pay { balance, amount } = op;
        assert!(amount <= balance, "{op:?}");
    }
}

#[test]
fn shrinking_keeps_dependent_fields_ordered() {
    assert!(PayOp::checks_args());
    for seed in [1, 2, 3, 0xDEAD_BEEF, 20261121] {
        let config = Config::default().ignore_env().persist(false).seed(seed);
        let result = Runner::<Wallet>::new(config).run_default::<Stingy>();
        assert!(result.failed(), "seed {seed}: not found");
        let minimal: Vec<String> = result.minimal.iter().map(|op| op.to_rust()).collect();
        assert_eq!(
            minimal,
            ["PayOp::Pay { balance: 5, amount: 5 }"],
            "seed {seed}:\n{}",
            result.report.text()
        );
    }
}
