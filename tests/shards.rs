//! Campaign shards under every runner: the engine deals a shard its cases once, whatever
//! executes them, so a concurrent or simulated shard finds its failure among its own cases and
//! names it by the run's case index (the sequential runner: `tests/runner/shards.rs`).

#[path = "../examples/ticket_dispenser.rs"]
#[allow(dead_code)]
mod tickets;

#[path = "../examples/replicated_register.rs"]
#[allow(dead_code)]
mod register;

use stateprop::{Config, Origin, Report, Runner};

fn config(seed: u64, k: u32, n: u32) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .persist(false)
        .shard(k, n)
}

/// The failing case's index of the run, after checking the shard owned it and ran no case past
/// it; with `STATEPROP_SHARD` on the rerun line.
fn failing_case(report: &Report, k: u32, n: u32) -> u64 {
    let text = report.text();
    let Some(Origin::Generated { case, .. }) = report.origin else {
        panic!("shard {k}/{n} found nothing: {text}")
    };
    assert_eq!(case % u64::from(n), u64::from(k - 1), "{text}");
    assert_eq!(report.stats.cases, case / u64::from(n) + 1, "{text}");
    assert!(
        text.contains(&format!(" STATEPROP_SHARD={k}/{n} ")),
        "{text}"
    );
    case
}

#[test]
fn a_concurrent_shard_runs_its_own_cases() {
    for k in 1..=3 {
        let config = config(3, k, 3).scheduler(tickets::scheduler());
        let result = Runner::<tickets::Tickets>::new(config)
            .run_concurrent_default::<tickets::RacyDispenser>();
        failing_case(&result.report, k, 3);
    }
}

#[test]
fn a_simulated_shard_runs_its_own_cases_and_the_same_shard_finds_the_same_case() {
    let run = |k| {
        let config = config(5, k, 4).cases(400).steps(1..30);
        Runner::with_initial(config, register::cluster())
            .run_simulated::<register::BackupReads>()
            .report
    };
    for k in 1..=4 {
        let first = failing_case(&run(k), k, 4);
        // A simulated run is deterministic: the shard again meets its failure at the same case.
        assert_eq!(failing_case(&run(k), k, 4), first);
    }
}
