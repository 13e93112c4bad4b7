//! The examples' systems, checked as tests: the buggy ones are caught, the puzzle is solved.

#[path = "../../examples/support/bank.rs"]
#[allow(dead_code)]
mod bank;

use stateprop::{Config, Model, Runner};

#[test]
fn quickstart_finds_the_stale_cache() {
    for seed in [1, 2, 3] {
        let r = crate::buggy_kv(Config::default().ignore_env().steps(1..50).seed(seed));
        assert!(r.failed());
        let ops = &r.report.minimal_rust.prefix;
        assert_eq!(ops.len(), 3, "{}", r.report.text());
        assert!(ops[0].starts_with("KvOp::Put { key: "));
        assert!(ops[1].starts_with("KvOp::Delete { key: "));
        assert!(ops[2].starts_with("KvOp::Get { key: "));
    }
}

#[test]
fn bank_self_transfer_is_found_through_var_handles() {
    // One failure, shrunk once, reaches the canonical three steps: an overdraft seen through a
    // second transfer or a withdrawal becomes a read of the balance (the failing step replaced
    // by another rule's operation), an opening balance and a deposit fold into one.
    for seed in 1..=20 {
        let config = Config::default()
            .ignore_env()
            .steps(1..40)
            .seed(seed)
            .persist(false);
        let r = Runner::<bank::Ledger>::new(config).run_default::<bank::Bank>();
        assert!(r.failed());
        assert_eq!(
            r.report.minimal_rust.prefix,
            [
                "BankOp::Open { initial: 1 }",
                "BankOp::Transfer { from: Var::at(0), to: Var::at(0), amount: 1 }",
                "BankOp::Balance { account: Var::at(0) }",
            ],
            "seed {seed}"
        );
    }
}

#[test]
fn a_saved_case_whose_vars_are_bare_step_indices_still_loads() {
    // Regression files written before vars named step ids hold a var as its step's index.
    let file = crate::scratch("bank-saved-vars").join("bank.stateprop-regressions");
    let steps = serde_json::json!([
        {"Open": {"initial": 1}},
        {"Transfer": {"from": 0, "to": 0, "amount": 1}},
        {"Balance": {"account": 0}},
    ]);
    let entry = serde_json::json!({
        "format": 2, "shape": "sequential", "test": "bank_saved", "seed": 1, "steps": steps
    });
    std::fs::write(&file, format!("{entry}\n")).unwrap();
    let config = Config::default()
        .ignore_env()
        .seed(1)
        .cases(1)
        .name("bank_saved")
        .regression_file(&file);
    let r = Runner::<bank::Ledger>::new(config).run_default::<bank::Bank>();
    assert!(r.failed());
    assert!(
        matches!(r.report.origin, Some(stateprop::Origin::Saved { .. })),
        "{}",
        r.report.text()
    );
    assert_eq!(r.report.stats.replayed, 1);
    assert_eq!(
        r.report.minimal_rust.prefix,
        [
            "BankOp::Open { initial: 1 }",
            "BankOp::Transfer { from: Var::at(0), to: Var::at(0), amount: 1 }",
            "BankOp::Balance { account: Var::at(0) }",
        ]
    );
}

#[path = "../../examples/diehard.rs"]
#[allow(dead_code)]
mod diehard;

#[test]
fn diehard_is_solved_in_six_steps() {
    use diehard::{Claim, Jugs, Pour};
    for seed in [1, 2, 3] {
        let config = Config::default()
            .ignore_env()
            .steps(1..=30)
            .cases(10_000)
            .failures(5)
            .seed(seed)
            .persist(false);
        let r = Runner::<Jugs>::new(config).run_default::<Claim>();
        assert!(r.failed());
        assert_eq!(r.minimal.len(), 6, "{}", r.report.text());
        let mut jugs = Jugs::default();
        for op in &r.minimal {
            jugs.step(op);
        }
        assert_eq!(jugs.big, 4);
        assert!(matches!(r.minimal[0], Pour::FillBig | Pour::FillSmall));
    }
}
