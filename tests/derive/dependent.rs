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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Acct(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum BankOut {
    Opened(Acct),
    Done,
}

impl stateprop::FromOutput<BankOut> for Acct {
    fn from_output(output: &BankOut) -> Option<Acct> {
        match output {
            BankOut::Opened(a) => Some(*a),
            BankOut::Done => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    balances: Vec<u32>,
}

impl Ledger {
    fn balance(&self, acct: &Acct) -> u32 {
        self.balances[acct.0 as usize]
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Ledger)]
pub enum LedgerOp {
    Open {
        #[strategy(0..20u32)]
        initial: u32,
    },
    /// A precondition over a `Var` and an argument together: drawn until it holds.
    #[rule(precondition = |m: &Ledger, acct: &Var<Acct>, amount: &u32| *amount <= m.balance(acct))]
    Withdraw {
        acct: Var<Acct>,
        #[strategy(0..20u32)]
        amount: u32,
    },
}

impl Model for Ledger {
    type Op = LedgerOp;
    type Output = BankOut;
    fn step(&mut self, op: &LedgerOp) -> BankOut {
        match op {
            LedgerOp::Open { initial } => {
                self.balances.push(*initial);
                BankOut::Opened(Acct(self.balances.len() as u32 - 1))
            }
            LedgerOp::Withdraw { acct, amount } => {
                let b = &mut self.balances[acct.0 as usize];
                *b = b.checked_sub(*amount).expect("no overdraft");
                BankOut::Done
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(200))]

    /// A precondition reading a `Var` and an argument holds at every generated step: the
    /// model would panic on an overdraft otherwise, and validation would refuse the program.
    #[test]
    fn a_precondition_over_a_var_and_an_argument_holds_when_generated(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
    ) {
        let mut u = arbitrary::Unstructured::new(&bytes);
        let ops = stateprop::program_from_unstructured(&Ledger::default(), &mut u, 40).unwrap();
        let mut model = Ledger::default();
        let mut outputs = Vec::new();
        for op in &ops {
            let mut bound = op.clone();
            proptest::prop_assert!(bound.bind_vars(&outputs));
            if let LedgerOp::Withdraw { acct, .. } = op {
                // Generated operations hold unbound vars, as without a precondition.
                proptest::prop_assert!(acct.try_get().is_none());
            }
            proptest::prop_assert!(bound.admits(&model), "{:?} in {:?}", op, model);
            outputs.push(model.step(&bound));
        }
        stateprop::generate::validate_program(&Ledger::default(), &stateprop::Program::sequential(ops))
            .unwrap();
    }
}
