//! The cluster's safety and liveness checks: raft's election safety and state machine safety
//! after every step, agreement after the liveness tail.

use crate::node::RaftKv;
use crate::path::ReadPath;
use std::collections::BTreeMap;

/// At most one leader per term among the nodes that are up (election safety), and every two
/// nodes' applied logs agree on their common prefix (state machine safety).
pub fn invariant<P: ReadPath>(nodes: &[Option<&RaftKv<P>>]) -> Result<(), String> {
    let mut leaders: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(node) = node else { continue };
        if node.is_leader() {
            if let Some(other) = leaders.insert(node.term(), i) {
                return Err(format!(
                    "two leaders in term {}: n{other} and n{i}",
                    node.term()
                ));
            }
        }
    }
    for (i, a) in nodes.iter().enumerate() {
        for (j, b) in nodes.iter().enumerate().skip(i + 1) {
            if let (Some(a), Some(b)) = (a, b) {
                if !a.agrees_with(b) {
                    return Err(format!(
                        "n{i} and n{j} applied different entries below index {}",
                        a.applied().min(b.applied())
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every node applied the same log to the same map.
pub fn converged<P: ReadPath>(nodes: &[&RaftKv<P>]) -> Result<(), String> {
    let first = nodes[0];
    for (i, node) in nodes.iter().enumerate().skip(1) {
        if node.applied() != first.applied() {
            return Err(format!(
                "n0 applied up to index {} and n{i} up to {}",
                first.applied(),
                node.applied()
            ));
        }
        if !node.agrees_with(first) {
            return Err(format!(
                "n0 and n{i} applied different entries up to index {}",
                node.applied()
            ));
        }
        if node.store() != first.store() {
            return Err(format!(
                "n0 holds {:?} and n{i} holds {:?}",
                first.store().map,
                node.store().map
            ));
        }
    }
    Ok(())
}
