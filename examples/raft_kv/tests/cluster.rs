//! The node wrapper itself, step by step on the simulator's engine: a leader is elected, a
//! write is answered once applied, a ReadIndex read at the new leader sees it after the old
//! leader crashed, and the old leader, restarted from its disk, rebuilds the same map; and the
//! cluster checks reject two leaders in one term and logs that disagree.

use raft_kv::{settings, Kv, KvOp, KvOut, RaftKv, ReadIndexReads};
use stateprop::sim::__engine::Cluster;
use stateprop::sim::Node;
use stateprop::sim::{NodeId, SimStep};

type N = RaftKv<ReadIndexReads>;

struct Run {
    cluster: Cluster<N>,
    step: u64,
}

impl Run {
    fn new(nodes: usize) -> Self {
        Run {
            cluster: Cluster::new(nodes, 5, settings()),
            step: 0,
        }
    }

    fn apply(&mut self, step: SimStep<KvOp>) {
        let i = self.step;
        self.step += 1;
        if let Err(broken) = self.cluster.apply(i, &step) {
            panic!("invariant broken at step {i}: {}", broken.message);
        }
    }

    fn leader(&self) -> NodeId {
        let leaders: Vec<NodeId> = (0..self.cluster.nodes().len() as NodeId)
            .filter(|&i| self.cluster.node(i).is_some_and(|n| n.is_leader()))
            .collect();
        assert_eq!(leaders.len(), 1, "one leader: {leaders:?}");
        leaders[0]
    }

    /// The output of the last operation of the history.
    fn last_output(&self) -> Option<KvOut> {
        self.cluster
            .history()
            .ops
            .last()
            .and_then(|op| op.output.clone())
    }
}

#[test]
fn a_write_survives_its_leaders_crash_and_the_leader_rebuilds_its_map_on_restart() {
    let mut run = Run::new(3);
    run.apply(SimStep::Advance { ms: 400 });
    let first = run.leader();
    let put = KvOp::Put { key: 0, value: 7 };
    run.apply(SimStep::Request {
        client: 0,
        node: first,
        op: put,
    });
    run.apply(SimStep::Advance { ms: 100 });
    assert_eq!(run.last_output(), Some(KvOut::Done));

    run.apply(SimStep::Crash { node: first });
    run.apply(SimStep::Advance { ms: 600 });
    let second = run.leader();
    assert_ne!(first, second);
    run.apply(SimStep::Request {
        client: 0,
        node: second,
        op: KvOp::Get { key: 0 },
    });
    run.apply(SimStep::Advance { ms: 100 });
    assert_eq!(run.last_output(), Some(KvOut::Value(Some(7))));

    // A follower refuses reads: no operation is recorded for them.
    let follower = (0..3).find(|&n| n != first && n != second).unwrap();
    let before = run.cluster.history().ops.len();
    run.apply(SimStep::Request {
        client: 1,
        node: follower,
        op: KvOp::Get { key: 0 },
    });
    assert_eq!(run.cluster.history().ops.len(), before);

    run.apply(SimStep::Restart { node: first });
    let restarted = run.cluster.node(first).expect("up");
    let expected = Kv {
        map: [(0, 7)].into_iter().collect(),
    };
    assert_eq!(restarted.store(), &expected, "rebuilt from the kept log");
    run.apply(SimStep::Advance { ms: 500 });
    let nodes: Vec<&N> = (0..3).map(|i| run.cluster.node(i).expect("up")).collect();
    N::converged(&nodes).expect("converged");
}

#[test]
fn five_nodes_elect_one_leader_and_answer_writes() {
    let mut run = Run::new(5);
    run.apply(SimStep::Advance { ms: 400 });
    let leader = run.leader();
    run.apply(SimStep::Request {
        client: 0,
        node: leader,
        op: KvOp::Cas {
            key: 1,
            from: 0,
            to: 1,
        },
    });
    run.apply(SimStep::Advance { ms: 100 });
    assert_eq!(run.last_output(), Some(KvOut::Cas(false)));
    assert!(run.cluster.stats().delivered > 0);
}

/// A cluster with a leader that has applied `Put { key: 0, value }`.
fn after_put(value: u8) -> Run {
    let mut run = Run::new(3);
    run.apply(SimStep::Advance { ms: 400 });
    let leader = run.leader();
    run.apply(SimStep::Request {
        client: 0,
        node: leader,
        op: KvOp::Put { key: 0, value },
    });
    run.apply(SimStep::Advance { ms: 500 });
    assert_eq!(run.last_output(), Some(KvOut::Done));
    run
}

#[test]
fn the_checks_catch_two_leaders_in_a_term_and_logs_that_disagree() {
    let (one, two) = (after_put(1), after_put(2));
    let a = one.cluster.node(one.leader()).expect("up");
    // A follower of the other cluster, which has applied its write too.
    let b = two.cluster.node((two.leader() + 1) % 3).expect("up");
    assert_eq!(b.applied(), a.applied());
    // The same leader listed twice is two leaders of one term.
    let twice = N::cluster_invariant(&[Some(a), None, Some(a)]).expect_err("two leaders");
    assert!(
        twice.starts_with(&format!("two leaders in term {}", a.term())),
        "{twice}"
    );
    // Two clusters that applied different writes at the same index disagree.
    let split = N::cluster_invariant(&[Some(a), Some(b)]).expect_err("different logs");
    assert!(split.contains("applied different entries"), "{split}");
    let diverged = N::converged(&[a, b]).expect_err("different maps");
    assert!(diverged.contains("different entries"), "{diverged}");
    // Every node of one cluster agrees.
    let nodes: Vec<&N> = (0..3).map(|i| one.cluster.node(i).expect("up")).collect();
    N::converged(&nodes).expect("converged");
    let all: Vec<Option<&N>> = nodes.iter().copied().map(Some).collect();
    N::cluster_invariant(&all).expect("one leader, one log");
}
