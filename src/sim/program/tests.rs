//! Simulated programs through the one engine: generation covers every step kind within the
//! cluster's shape, the swarm switches fault kinds on and off, steps print as Rust and round-trip
//! through JSON, and the sequential runner's shrinker removes the faults a failure does not need.

use super::FAULT_RULES;
use crate::generate::{check_program, generate_program, CaseGenerator};
use crate::program::Program;
use crate::sim::{Sim, SimOut, SimStep};
use crate::{Config, Model, Runner, StateMachine, System};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Store {
    map: BTreeMap<u8, u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine, serde::Serialize)]
#[state_machine(model = Store)]
enum StoreOp {
    #[rule(weight = 2)]
    Put {
        #[strategy(0..4u8)]
        key: u8,
        #[strategy(0..100u32)]
        value: u32,
    },
    Get {
        #[strategy(0..4u8)]
        key: u8,
    },
    #[rule(precondition = |m: &Store| !m.map.is_empty())]
    Clear,
}

impl Model for Store {
    type Op = StoreOp;
    type Output = Option<u32>;
    fn step(&mut self, op: &StoreOp) -> Option<u32> {
        match *op {
            StoreOp::Put { key, value } => self.map.insert(key, value),
            StoreOp::Get { key } => self.map.get(&key).copied(),
            StoreOp::Clear => {
                self.map.clear();
                None
            }
        }
    }
    fn is_read_only(op: &StoreOp) -> bool {
        matches!(op, StoreOp::Get { .. })
    }
}

type Step = SimStep<StoreOp>;

const NODES: u8 = 3;
const CLIENTS: u8 = 2;

fn sim() -> Sim<Store> {
    Sim::new(Store::default(), NODES, CLIENTS)
}

fn generated(seed: u64, swarm: bool) -> Vec<Step> {
    let mut plan = CaseGenerator::new::<Step>(seed, (1, 60), swarm);
    let len = plan.len;
    generate_program(&sim(), &mut plan, len, None).expect("generation never runs out of rules")
}

/// The rule names, so a test failure says which kind is missing.
fn name(rule: usize) -> &'static str {
    Step::rules()[rule].name
}

#[test]
fn rules_are_one_request_rule_per_inner_rule_then_the_faults() {
    let names: Vec<&str> = Step::rules().iter().map(|r| r.name).collect();
    let mut expected = vec!["Request(Put)", "Request(Get)", "Request(Clear)"];
    expected.extend(FAULT_RULES.iter().map(|(n, _)| *n));
    assert_eq!(names, expected);
    // The inner precondition and weight carry over.
    assert!(Step::rules()[2].precondition.is_some());
    assert_eq!(Step::rules()[0].weight, 2 * super::REQUEST_WEIGHT);
    // Built once: the same leaked table every call.
    assert!(std::ptr::eq(Step::rules(), Step::rules()));
}

#[test]
fn generation_makes_every_step_kind_within_the_cluster_shape() {
    let mut seen = vec![0usize; Step::rules().len()];
    for seed in 0..300 {
        let program = generated(seed, true);
        check_program(&sim(), &Program::sequential(program.clone()))
            .unwrap_or_else(|e| panic!("seed {seed}: ill-formed program: {e}"));
        let mut model = sim();
        for step in &program {
            seen[step.rule_index()] += 1;
            match *step {
                Step::Request { client, node, .. } => {
                    assert!(client < CLIENTS, "seed {seed}: {step:?}");
                    assert!(node < NODES, "seed {seed}: {step:?}");
                }
                Step::ClockSkew { node, ms } => {
                    assert!(node < NODES, "seed {seed}: {step:?}");
                    assert!(ms.unsigned_abs() <= 500, "seed {seed}: {step:?}");
                }
                Step::ClockDrift { node, rate } => {
                    assert!(node < NODES, "seed {seed}: {step:?}");
                    assert!(rate.unsigned_abs() <= 500, "seed {seed}: {step:?}");
                }
                Step::Crash { node } => assert!(!model.is_crashed(node) && node < NODES),
                Step::Restart { node } => assert!(model.is_crashed(node)),
                Step::Heal => assert!(model.is_partitioned(), "seed {seed}: a useless heal"),
                Step::Partition { side, .. } => {
                    let all = (1u16 << NODES) - 1;
                    assert!(side != 0 && side & all == side && side != all, "{step:?}");
                }
                Step::Advance { ms } | Step::Delay { ms, .. } => {
                    assert!((1..=200).contains(&ms), "{step:?}");
                }
                Step::Deliver { .. } | Step::Drop { .. } | Step::Duplicate { .. } => {}
            }
            model.step(step);
        }
    }
    for (rule, &count) in seen.iter().enumerate() {
        assert!(count > 0, "no `{}` step in 300 programs", name(rule));
    }
    // Requests and time are the common steps, faults the rare ones.
    let requests: usize = seen[..3].iter().sum();
    let crashes = seen[3 + super::CRASH];
    assert!(requests > 4 * crashes, "{seen:?}");
}

#[test]
fn requests_step_the_service_model_and_faults_the_cluster() {
    let mut model = sim();
    let put = Step::Request {
        client: 1,
        node: 2,
        op: StoreOp::Put { key: 1, value: 7 },
    };
    assert_eq!(model.step(&put), SimOut::Answer(None));
    assert_eq!(model.inner.map.get(&1), Some(&7));
    assert_eq!(model.step(&Step::Crash { node: 2 }), SimOut::Done);
    assert!(model.is_crashed(2));
    assert_eq!(model.up_nodes().collect::<Vec<_>>(), [0, 1]);
    let n = StoreOp::rules().len();
    assert!(Step::enabled(n + super::RESTART, &model, &[]));
    model.step(&Step::Restart { node: 2 });
    assert!(!Step::enabled(n + super::RESTART, &model, &[]));
    assert!(!Step::enabled(n + super::HEAL, &model, &[]));
    model.step(&Step::Partition {
        side: 0b001,
        one_way: false,
    });
    assert!(Step::enabled(n + super::HEAL, &model, &[]));
    model.step(&Step::Heal);
    assert!(!model.is_partitioned());
    // The inner precondition decides a request rule: `Clear` needs a key.
    assert!(Step::enabled(2, &model, &[]));
    assert!(!Step::enabled(2, &sim(), &[]));
    // The history judges see the service's own semantics through the wrapper.
    assert!(Sim::<Store>::is_read_only(&Step::Request {
        client: 0,
        node: 0,
        op: StoreOp::Get { key: 0 }
    }));
    assert!(!Sim::<Store>::is_read_only(&Step::Advance { ms: 1 }));
}

/// Fault rule `offset`'s bit in a case's swarm.
fn fault_in(plan: &CaseGenerator, offset: usize) -> bool {
    plan.in_swarm(StoreOp::rules().len() + offset)
}

#[test]
fn swarm_switches_fault_kinds_on_and_off_by_kind() {
    const FAULTS: [usize; 9] = [
        super::PARTITION,
        super::HEAL,
        super::DROP,
        super::DUPLICATE,
        super::DELAY,
        super::CRASH,
        super::RESTART,
        super::CLOCK_SKEW,
        super::CLOCK_DRIFT,
    ];
    let (mut none, mut all, mut only_crashes, mut some_requests_out) = (0, 0, 0, 0);
    let cases = 2000;
    let (mut fault_rates, mut deliver_weights) = (BTreeSet::new(), BTreeSet::new());
    for seed in 0..cases {
        let plan = CaseGenerator::new::<Step>(seed, (1, 60), true);
        let on: Vec<usize> = FAULTS
            .iter()
            .copied()
            .filter(|&f| fault_in(&plan, f))
            .collect();
        none += usize::from(on.is_empty());
        all += usize::from(on.len() == FAULTS.len());
        only_crashes += usize::from(on == [super::CRASH, super::RESTART] || on == [super::CRASH]);
        assert!(
            fault_in(&plan, super::ADVANCE),
            "seed {seed}: time always moves"
        );
        let n = StoreOp::rules().len();
        for &f in &on {
            fault_rates.insert(plan.case_weights[n + f] / FAULT_RULES[f].1);
        }
        if fault_in(&plan, super::DELIVER) {
            deliver_weights.insert(plan.case_weights[n + super::DELIVER]);
        }
        // The request rules keep their weights: only the network and the faults vary.
        assert_eq!(plan.case_weights[..n], [8, 4, 4]);
        let requests = (0..StoreOp::rules().len()).filter(|&r| plan.in_swarm(r));
        let requests = requests.count();
        assert!(requests >= 1, "seed {seed}: a case with no request rule");
        some_requests_out += usize::from(requests < StoreOp::rules().len());
        // Without swarm every rule is in.
        let plain = CaseGenerator::new::<Step>(seed, (1, 60), false);
        assert!((0..Step::rules().len()).all(|r| plain.in_swarm(r)));
    }
    // A quarter of the cases have no fault (the engine's own per-rule coin would give 1 in 512),
    // a quarter all of them, and the rest a mix.
    assert!(
        (350..650).contains(&none),
        "{none} of {cases} cases without faults"
    );
    assert!(
        (350..650).contains(&all),
        "{all} of {cases} cases with every fault"
    );
    assert!(
        only_crashes >= 5,
        "{only_crashes} of {cases} cases with only crashes"
    );
    assert!(
        some_requests_out > cases as usize / 5,
        "{some_requests_out}"
    );
    // How often a kind comes varies per case too.
    assert_eq!(fault_rates.into_iter().collect::<Vec<_>>(), [1, 2, 4]);
    assert_eq!(deliver_weights.into_iter().collect::<Vec<_>>(), [2, 4, 8]);
    // And generation follows the swarm: a case without faults makes none.
    let quiet = (0..cases)
        .find(|&seed| {
            let plan = CaseGenerator::new::<Step>(seed, (1, 60), true);
            FAULTS.iter().all(|&f| !fault_in(&plan, f)) && plan.len > 40
        })
        .expect("a case without faults");
    let n = StoreOp::rules().len();
    for step in generated(quiet, true) {
        let rule = step.rule_index();
        assert!(rule < n || rule - n == super::ADVANCE || rule - n == super::DELIVER);
    }
}

#[test]
fn every_step_kind_prints_as_rust() {
    let cases: [(Step, &str); 12] = [
        (
            Step::Request {
                client: 0,
                node: 1,
                op: StoreOp::Put { key: 3, value: 1 },
            },
            "SimStep::Request { client: 0, node: 1, op: StoreOp::Put { key: 3, value: 1 } }",
        ),
        (Step::Deliver { pick: 4 }, "SimStep::Deliver { pick: 4 }"),
        (Step::Advance { ms: 10 }, "SimStep::Advance { ms: 10 }"),
        (
            Step::Partition {
                side: 5,
                one_way: true,
            },
            "SimStep::Partition { side: 5, one_way: true }",
        ),
        (Step::Heal, "SimStep::Heal"),
        (Step::Drop { pick: 0 }, "SimStep::Drop { pick: 0 }"),
        (
            Step::Duplicate { pick: 9 },
            "SimStep::Duplicate { pick: 9 }",
        ),
        (
            Step::Delay { pick: 2, ms: 30 },
            "SimStep::Delay { pick: 2, ms: 30 }",
        ),
        (Step::Crash { node: 2 }, "SimStep::Crash { node: 2 }"),
        (Step::Restart { node: 2 }, "SimStep::Restart { node: 2 }"),
        (
            Step::ClockSkew { node: 1, ms: -40 },
            "SimStep::ClockSkew { node: 1, ms: -40 }",
        ),
        (
            Step::ClockDrift {
                node: 2,
                rate: -125,
            },
            "SimStep::ClockDrift { node: 2, rate: -125 }",
        ),
    ];
    for (step, rust) in cases {
        assert_eq!(step.to_rust(), rust);
    }
}

#[test]
fn programs_round_trip_through_json_in_serdes_tagged_form() {
    let put = Step::Request {
        client: 1,
        node: 2,
        op: StoreOp::Put { key: 3, value: 4 },
    };
    assert_eq!(
        put.to_json(),
        serde_json::json!({"Request": {"client": 1, "node": 2, "op": {"Put": {"key": 3, "value": 4}}}})
    );
    // The same form serde's derive on `SimStep` writes, so either reads the other's.
    let clear = Step::Request {
        client: 0,
        node: 0,
        op: StoreOp::Clear,
    };
    assert_eq!(
        clear.to_json(),
        serde_json::json!({"Request": {"client": 0, "node": 0, "op": "Clear"}})
    );
    for seed in 0..100 {
        for step in generated(seed, false) {
            let json = step.to_json();
            assert_eq!(json, serde_json::to_value(&step).unwrap());
            assert_eq!(Step::from_json(&json).as_ref(), Ok(&step), "{json}");
        }
    }
    let bad = [
        (
            serde_json::json!({"Crash": {}}),
            "`Crash` is missing field `node`",
        ),
        (serde_json::json!({"Crash": {"node": 300}}), "`Crash.node`"),
        (
            serde_json::json!({"Advance": 5}),
            "`Advance` takes an object of fields",
        ),
        (serde_json::json!({"Fly": {}}), "unknown step `Fly`"),
        (
            serde_json::json!({"Request": {"client": 0, "node": 0, "op": {"Jump": {}}}}),
            "`Request.op`: unknown operation `Jump`",
        ),
    ];
    for (json, message) in bad {
        let error = Step::from_json(&json).expect_err("bad input is refused");
        assert!(error.contains(message), "{error}");
    }
}

/// A service whose node 1 loses a put sent to it once it has crashed, even after a restart: the
/// failure needs exactly one fault and one request.
#[derive(Default)]
struct ForgetfulCluster {
    model: Store,
    node_1_crashed: bool,
}

impl System<Sim<Store>> for ForgetfulCluster {
    fn apply(&mut self, step: &Step) -> SimOut<Option<u32>> {
        match step {
            Step::Request {
                node: 1,
                op: StoreOp::Put { .. },
                ..
            } if self.node_1_crashed => SimOut::Answer(Some(u32::MAX)),
            Step::Request { op, .. } => SimOut::Answer(self.model.step(op)),
            Step::Crash { node: 1 } => {
                self.node_1_crashed = true;
                SimOut::Done
            }
            _ => SimOut::Done,
        }
    }
}

fn shrink_config(seed: u64) -> Config {
    Config::default()
        .ignore_env()
        .seed(seed)
        .cases(500)
        .steps(1..=40)
        .persist(false)
}

fn minimal_program() -> Vec<Step> {
    vec![
        Step::Crash { node: 1 },
        Step::Request {
            client: 0,
            node: 1,
            op: StoreOp::Put { key: 0, value: 0 },
        },
    ]
}

#[test]
fn the_shrinker_removes_every_fault_the_failure_does_not_need() {
    for seed in 1..=5 {
        let result =
            Runner::with_initial(shrink_config(seed), sim()).run(ForgetfulCluster::default);
        assert!(result.failed(), "seed {seed}: the lost put was not found");
        assert_eq!(
            result.minimal,
            minimal_program(),
            "seed {seed}:\n{}",
            result.report.text()
        );
    }
}

#[test]
fn a_shrunk_simulated_program_is_saved_and_replayed_from_the_regression_file() {
    let dir = std::env::temp_dir().join(format!("stateprop-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sim.regressions");
    let _ = std::fs::remove_file(&file);
    let config = |seed, cases| {
        shrink_config(seed)
            .cases(cases)
            .persist(true)
            .regression_file(&file)
            .name("sim_saved")
    };
    let first = Runner::with_initial(config(3, 500), sim()).run(ForgetfulCluster::default);
    assert!(first.failed());
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains(r#"{"Crash":{"node":1}}"#), "{saved}");
    // No new cases: only the saved program runs, and it still fails, as the same program.
    let second = Runner::with_initial(config(4, 0), sim()).run(ForgetfulCluster::default);
    assert!(second.failed(), "{}", second.report.text());
    assert_eq!(second.minimal, minimal_program());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A service whose node 2, once its clock runs at least 100 ms off, loses its lease after 50 ms
/// of time and answers reads wrongly: the failure needs a skew and an advance of at least those
/// sizes, then a read sent to node 2.
#[derive(Default)]
struct SkewedLease {
    model: Store,
    skew: i16,
    elapsed: u32,
}

impl System<Sim<Store>> for SkewedLease {
    fn apply(&mut self, step: &Step) -> SimOut<Option<u32>> {
        match *step {
            Step::ClockSkew { node: 2, ms } => self.skew = ms,
            Step::Advance { ms } if self.skew.unsigned_abs() >= 100 => {
                self.elapsed += u32::from(ms);
            }
            Step::Request {
                node: 2,
                op: StoreOp::Get { .. },
                ..
            } if self.elapsed >= 50 => return SimOut::Answer(Some(u32::MAX)),
            Step::Request { ref op, .. } => return SimOut::Answer(self.model.step(op)),
            _ => {}
        }
        SimOut::Done
    }
}

#[test]
fn the_shrinker_lowers_fault_arguments_to_the_smallest_that_still_fail() {
    for seed in 1..=5 {
        let config = shrink_config(seed).cases(2000);
        let result = Runner::with_initial(config, sim()).run(SkewedLease::default);
        assert!(
            result.failed(),
            "seed {seed}: the stale lease read was not found"
        );
        let text = result.report.text();
        let [Step::ClockSkew { node: 2, ms }, Step::Advance { ms: 50 }, Step::Request {
            client: 0,
            node: 2,
            op: StoreOp::Get { key: 0 },
        }] = result.minimal[..]
        else {
            panic!("seed {seed}: not the minimal program:\n{text}");
        };
        assert_eq!(ms.unsigned_abs(), 100, "seed {seed}:\n{text}");
    }
}

#[test]
fn a_step_naming_a_client_node_or_side_the_cluster_lacks_is_refused() {
    let put = StoreOp::Put { key: 0, value: 0 };
    let request = |client, node| SimStep::Request {
        client,
        node,
        op: put.clone(),
    };
    let refused = [
        // The shrinker once moved a `pick` of 2 into the client of a two-client run.
        request(CLIENTS, 0),
        request(0, NODES),
        SimStep::Crash { node: NODES },
        SimStep::Restart { node: NODES },
        SimStep::ClockSkew { node: NODES, ms: 1 },
        SimStep::ClockDrift {
            node: NODES,
            rate: 1,
        },
        SimStep::Partition {
            side: 0,
            one_way: false,
        },
        // Every node on one side cuts nothing: the generator never makes it.
        SimStep::Partition {
            side: 0b111,
            one_way: false,
        },
    ];
    for step in refused {
        let program = Program::sequential(vec![step.clone()]);
        assert!(
            check_program(&sim(), &program).is_err(),
            "{step:?} was accepted in a cluster of {NODES} nodes and {CLIENTS} clients"
        );
    }
    let accepted = [
        request(CLIENTS - 1, NODES - 1),
        SimStep::Crash { node: NODES - 1 },
        SimStep::Partition {
            side: 0b110,
            one_way: true,
        },
    ];
    for step in accepted {
        let program = Program::sequential(vec![step.clone()]);
        assert!(
            check_program(&sim(), &program).is_ok(),
            "{step:?} was refused"
        );
    }
}
