//! The correct read paths pass campaigns of generated programs full of partitions, drops,
//! duplicates, delays, clock skew, crashes and restarts, every client history judged for
//! linearizability, the cluster checked after every step (one leader per term, applied logs
//! agreeing) and after the liveness tail (every node applied the same log).

mod support;

use raft_kv::{cluster, LogReads, RaftKv, ReadIndexReads};
use stateprop::Runner;
use support::{assert_faults_exercised, config, labelled};

#[test]
fn read_index_reads_on_three_nodes_pass_300_cases_of_faults() {
    let runner = labelled(Runner::with_initial(config(1).cases(300), cluster(3, 2)));
    let result = runner.run_simulated::<RaftKv<ReadIndexReads>>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 300);
    assert_faults_exercised(&result.report, 30, 20);
}

#[test]
fn log_reads_on_three_nodes_pass_150_cases_of_faults() {
    let runner = labelled(Runner::with_initial(config(2).cases(150), cluster(3, 3)));
    let result = runner.run_simulated::<RaftKv<LogReads>>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 150);
    assert_faults_exercised(&result.report, 10, 10);
}

#[test]
fn read_index_reads_on_five_nodes_pass_150_cases_of_faults() {
    let runner = labelled(Runner::with_initial(config(3).cases(150), cluster(5, 3)));
    let result = runner.run_simulated::<RaftKv<ReadIndexReads>>();
    assert!(!result.failed(), "{}", result.report.text());
    assert_eq!(result.report.stats.cases, 150);
    assert_faults_exercised(&result.report, 10, 10);
}
