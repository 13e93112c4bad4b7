//! A bank whose accounts are handles the system hands out: `Var<AccountId>` in action.
//!
//! `Open` returns an `AccountId` that the real bank picks (here, a scrambled number the model
//! cannot predict). Later operations name the account with a `Var<AccountId>`, a reference to the
//! `Open` step's result: the model sees the id it made, the bank the id the bank made. The bank
//! has a bug in transfers from an account to itself; stateprop finds it and shrinks it to three
//! steps: open, transfer to itself, read the balance.
//! Run it with `cargo run --example bank`.

#[path = "support/bank.rs"]
mod bank;

use bank::{Bank, BankOp, Ledger};
use stateprop::{Config, RunResult, Runner};

fn main() {
    let result = run(config());
    println!("{}", result.report.text());
    if !result.failed() {
        eprintln!("stateprop: the planted bug was not found; this example expects to find it");
        std::process::exit(1);
    }
}

/// The example's settings: programs of 1 to 39 steps, and no regression file.
pub fn config() -> Config {
    Config::default().steps(1..40).persist(false)
}

/// The example's run (`tests/docs` runs it as `main` would, to check what the crate docs say of
/// it).
pub fn run(config: Config) -> RunResult<BankOp> {
    Runner::<Ledger>::new(config).run_default::<Bank>()
}
