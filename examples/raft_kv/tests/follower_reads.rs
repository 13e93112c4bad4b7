//! The planted bug: any node answers a read from its own map. The campaigns that pass with the
//! correct read paths find it, shrink it to its shortest counterexample and report it as a
//! linearizability violation; the pasted test replays it, and the correct node passes the same
//! program.
//!
//! Why three steps is the shortest: a stale read needs an acknowledged write and a later read
//! that misses it. Nothing happens without time, and no node leads at time 0 (raft elects only
//! after an election timeout has passed on some node's ticks), so a write before any `Advance` is
//! refused and leaves no operation: the program needs an `Advance` that elects, then a `Put` at
//! the leader, then a `Get` at another node. The write must have returned before the read is
//! invoked, and it cannot return within its own step (a majority has to store it first), so
//! the read either waits for a second `Advance` or sits in the same client session behind the
//! write: then the liveness tail commits the write, the leader answers it, and the session's
//! read goes out at that very instant, to a follower the leader's new commit index has not
//! reached yet. Three steps, no shorter.

mod support;

use raft_kv::{cluster, FollowerReads, Kv, KvOp, RaftKv, ReadIndexReads};
use stateprop::sim::SimStep;
use stateprop::{Config, FailureKind, HistoryViolation, Runner};
use support::config;

/// An election, a write at the leader, a read of the same key at another node from the same
/// client: the shape every shrunk failure must have.
fn is_shortest_stale_read(steps: &[SimStep<KvOp>]) -> bool {
    match steps {
        [SimStep::Advance { .. }, SimStep::Request {
            client: c1,
            node: leader,
            op: KvOp::Put { key: k1, .. },
        }, SimStep::Request {
            client: c2,
            node: reader,
            op: KvOp::Get { key: k2 },
        }] => c1 == c2 && leader != reader && k1 == k2,
        _ => false,
    }
}

fn find(seed: u64) -> stateprop::RunResult<SimStep<KvOp>> {
    Runner::with_initial(config(seed).cases(300), cluster(3, 2))
        .run_simulated::<RaftKv<FollowerReads>>()
}

/// Ends with a write at one node and a read of its key at another, in one client session.
fn ends_with_stale_read(steps: &[SimStep<KvOp>]) -> bool {
    match steps {
        [.., SimStep::Request {
            client: c1,
            node: leader,
            op: KvOp::Put { key: k1, .. },
        }, SimStep::Request {
            client: c2,
            node: reader,
            op: KvOp::Get { key: k2 },
        }] => c1 == c2 && leader != reader && k1 == k2,
        _ => false,
    }
}

fn assert_not_linearizable(seed: u64, result: &stateprop::RunResult<SimStep<KvOp>>) {
    assert!(result.failed(), "seed {seed}: the stale read was not found");
    let failure = result.report.failure.as_ref().expect("a failure");
    assert!(
        matches!(&failure.kind, FailureKind::History(v)
            if matches!(**v, HistoryViolation::NotLinearizable { .. })),
        "seed {seed}: {failure:?}"
    );
}

#[test]
fn follower_reads_are_shrunk_to_the_three_step_minimum_on_pinned_seeds() {
    // Pinned when the `ClockDrift` rule changed every case's draws; seeds 4 and 5 now stop at
    // four steps (a partition or a clock skew that decides who wins the election), which the
    // ten-seed test below allows.
    for seed in [1, 2, 3, 6] {
        let result = find(seed);
        assert_not_linearizable(seed, &result);
        assert!(
            is_shortest_stale_read(&result.minimal),
            "seed {seed}: {:?}",
            result.minimal
        );
    }
}

#[test]
fn follower_reads_are_found_in_ten_seeds_and_shrunk_to_at_most_five_steps() {
    // Over seeds 1 to 10 the shrinker reaches the three-step minimum in seven; the others stop
    // at four or five steps, in local minima a deletion cannot leave: two `Advance`s that only
    // together last long enough to elect (steps shrink toward shorter, never merge), or a clock
    // skew that decides which node wins the election the write is sent to.
    let mut shortest = 0;
    for seed in 1..=10 {
        let result = find(seed);
        assert_not_linearizable(seed, &result);
        assert!(
            result.minimal.len() <= 5 && ends_with_stale_read(&result.minimal),
            "seed {seed}: {:?}",
            result.minimal
        );
        shortest += usize::from(is_shortest_stale_read(&result.minimal));
    }
    assert!(
        shortest >= 7,
        "only {shortest} seeds of 10 reached three steps"
    );
}

#[test]
fn the_report_names_linearizability_and_the_pasted_test_replays_it() {
    let result = find(1);
    let text = result.report.text();
    assert!(text.contains("not linearizable"), "{text}");
    assert!(
        text.contains("stateprop::replay_simulated::<Kv, RaftKv<FollowerReads>>(")
            && text.contains("stateprop::sim::Sim::new(Kv::default(), 3, 2)")
            && text.contains(".never_quiet()"),
        "{text}"
    );
    let minimal = result.minimal.clone();
    let replayed = std::panic::catch_unwind(|| {
        stateprop::replay_simulated::<Kv, RaftKv<FollowerReads>>(
            Config::default().ignore_env().schedule_seed(0),
            cluster(3, 2),
            &minimal,
        )
    });
    let message = *replayed
        .expect_err("the replay fails")
        .downcast::<String>()
        .expect("a report");
    assert!(message.contains("not linearizable"), "{message}");
    // The node with the correct read path passes the very same program.
    stateprop::replay_simulated::<Kv, RaftKv<ReadIndexReads>>(
        Config::default().ignore_env(),
        cluster(3, 2),
        &result.minimal,
    );
}

#[test]
fn the_campaign_that_passes_with_read_index_finds_follower_reads() {
    // The same seed and shape as the 300-case campaign of `correct_reads.rs`: its pass is not
    // for want of power.
    let runner = Runner::with_initial(config(1).cases(300), cluster(3, 2));
    let result = runner.run_simulated::<RaftKv<FollowerReads>>();
    assert!(result.failed());
    let five = Runner::with_initial(config(3).cases(150), cluster(5, 3))
        .run_simulated::<RaftKv<FollowerReads>>();
    assert!(five.failed());
    assert!(
        is_shortest_stale_read(&five.minimal),
        "five nodes: {:?}",
        five.minimal
    );
}
