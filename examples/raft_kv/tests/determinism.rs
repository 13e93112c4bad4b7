//! The same program and seed give the same run, although raft-rs draws its election timeouts
//! from thread-local randomness: the node overrides every draw with one from its context. The
//! check runs a program full of faults twice in one process and in two processes and compares
//! the traces' hashes; the node with raft's own draws left in place is caught diverging.

mod support;

use raft_kv::{cluster, settings, FollowerReads, KvOp, LeakyTimeouts, RaftKv, ReadIndexReads};
use stateprop::sim::__engine::check_determinism;
use stateprop::sim::SimStep;
use stateprop::Runner;

/// Elections, writes and reads at every node, and every kind of fault.
fn program() -> Vec<SimStep<KvOp>> {
    use SimStep::*;
    let put = |client, node, key, value| Request {
        client,
        node,
        op: KvOp::Put { key, value },
    };
    let get = |client, node, key| Request {
        client,
        node,
        op: KvOp::Get { key },
    };
    vec![
        Advance { ms: 180 },
        put(0, 0, 0, 1),
        put(1, 1, 1, 2),
        put(2, 2, 0, 3),
        Advance { ms: 30 },
        Duplicate { pick: 1 },
        Delay { pick: 0, ms: 40 },
        Drop { pick: 2 },
        Advance { ms: 50 },
        get(0, 1, 0),
        get(1, 2, 1),
        Partition {
            side: 0b001,
            one_way: false,
        },
        Advance { ms: 200 },
        put(0, 1, 1, 4),
        put(1, 2, 0, 5),
        ClockSkew { node: 1, ms: 120 },
        Advance { ms: 200 },
        Crash { node: 2 },
        Heal,
        Advance { ms: 150 },
        Request {
            client: 2,
            node: 0,
            op: KvOp::Cas {
                key: 0,
                from: 5,
                to: 6,
            },
        },
        Restart { node: 2 },
        Deliver { pick: 3 },
        Advance { ms: 200 },
        Partition {
            side: 0b110,
            one_way: true,
        },
        get(0, 0, 0),
        Advance { ms: 200 },
        Heal,
        Advance { ms: 200 },
        get(1, 1, 0),
        Advance { ms: 100 },
    ]
}

/// The trace hash of two runs of [`program`] on 3 nodes with `seed`, or where they part.
fn hash_of<N>(seed: u64) -> Result<u64, String>
where
    N: stateprop::sim::Node<Request = KvOp>,
{
    check_determinism::<N>(3, seed, &settings(), &program(), Some(2_000)).map_err(|d| d.to_string())
}

#[test]
fn a_program_full_of_faults_runs_the_same_twice_in_one_process() {
    for seed in [0, 1, 0xDEAD_BEEF] {
        let first = hash_of::<RaftKv<ReadIndexReads>>(seed).expect("deterministic");
        assert_eq!(hash_of::<RaftKv<ReadIndexReads>>(seed), Ok(first));
    }
    // The seed reaches the nodes: another seed is another run.
    assert_ne!(
        hash_of::<RaftKv<ReadIndexReads>>(0),
        hash_of::<RaftKv<ReadIndexReads>>(1)
    );
}

#[test]
fn raft_drawing_its_own_election_timeouts_is_caught() {
    // With `thread_rng` deciding when followers time out, two runs elect at different times.
    let leaky = (0..4).map(hash_of::<RaftKv<LeakyTimeouts>>);
    let caught = leaky.filter(|r| r.is_err()).count();
    assert!(caught >= 3, "caught in only {caught} seeds of 4");
    let message = hash_of::<RaftKv<LeakyTimeouts>>(0).expect_err("not deterministic");
    assert!(message.contains("not deterministic"), "{message}");
}

/// The environment variable that makes [`prints_the_trace_hash_for_the_other_process`] print.
const CHILD: &str = "RAFT_KV_PRINT_TRACE_HASH";

#[test]
fn prints_the_trace_hash_for_the_other_process() {
    if std::env::var_os(CHILD).is_some() {
        let hash = hash_of::<RaftKv<ReadIndexReads>>(7).expect("deterministic");
        println!("trace-hash={hash:#x}");
    }
}

#[test]
fn two_processes_run_the_program_alike() {
    // A second process of this test binary runs the program: what is decided once per process
    // (a static, a randomly keyed hasher) would differ there.
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "prints_the_trace_hash_for_the_other_process",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let theirs = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace-hash="))
        .unwrap_or_else(|| panic!("no hash printed: {stdout}"));
    let ours = hash_of::<RaftKv<ReadIndexReads>>(7).expect("deterministic");
    assert_eq!(theirs, format!("{ours:#x}"));
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let run = || {
        Runner::with_initial(support::config(2), cluster(3, 2))
            .run_simulated::<RaftKv<FollowerReads>>()
            .report
            .text()
    };
    let (first, second) = (run(), run());
    // The report draws the failing run's timeline from its trace: equal reports, equal runs.
    assert!(first.contains("timeline of the failing run"), "{first}");
    assert_eq!(first, second);
}
