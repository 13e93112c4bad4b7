//! The one-guard step of a plain generated case reports every panic as the step-by-step path
//! does (four guards, taken when a case records a trace): same failure, same step, same count.

use super::*;
use crate::exec::watchdog::Heartbeat;
use crate::generate::CaseGenerator;
use crate::{Model, StateMachine};

/// Which part of step `FUSE` panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blow {
    Nothing,
    Precondition,
    Strategy,
    Model,
    System,
    Postcondition,
    Invariant,
}

const FUSE: u32 = 3;

#[derive(Debug, Clone)]
struct Fuse {
    steps: u32,
    blow: Blow,
}

impl Fuse {
    fn at_fuse(&self, part: Blow) -> bool {
        self.blow == part && self.steps == FUSE
    }

    fn open(&self) -> bool {
        assert!(!self.at_fuse(Blow::Precondition), "precondition blew");
        true
    }

    fn keys(&self) -> std::ops::Range<u8> {
        assert!(!self.at_fuse(Blow::Strategy), "strategy blew");
        0..4
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Fuse)]
enum FuseOp {
    #[rule(weight = 2, precondition = |m: &Fuse| m.open())]
    Put {
        #[strategy(|m: &Fuse| m.keys())]
        key: u8,
    },
    Get,
}

impl Model for Fuse {
    type Op = FuseOp;
    type Output = u32;

    fn step(&mut self, _op: &FuseOp) -> u32 {
        assert!(!self.at_fuse(Blow::Model), "model blew");
        self.steps += 1;
        self.steps
    }

    fn outputs_match(&self, _op: &FuseOp, expected: &u32, actual: &u32) -> bool {
        // The model has stepped: step `FUSE` left it at `FUSE + 1`.
        assert!(
            !(self.blow == Blow::Postcondition && self.steps == FUSE + 1),
            "postcondition blew"
        );
        expected == actual
    }
}

struct Counter {
    steps: u32,
    blow: Blow,
}

impl System<Fuse> for Counter {
    fn apply(&mut self, _op: &FuseOp) -> u32 {
        assert!(
            !(self.blow == Blow::System && self.steps == FUSE),
            "system blew"
        );
        self.steps += 1;
        self.steps
    }

    fn invariant(&self, model: &Fuse) -> Result<(), String> {
        assert!(
            !(self.blow == Blow::Invariant && model.steps == FUSE + 1),
            "invariant blew"
        );
        Ok(())
    }
}

/// What a generated case came to: the failure or generation error and the step counts, or
/// the panic that escaped the executor.
type Outcome = Result<(Result<(Option<Failure>, usize), (String, usize)>, Vec<u64>), String>;

fn run_case(blow: Blow, seed: u64, trace: bool) -> Outcome {
    crate::catch::capture_on_this_thread();
    let initial = Fuse { steps: 0, blow };
    let factory = move || Counter { steps: 0, blow };
    let executor = Sequential {
        initial: &initial,
        factory: &factory,
    };
    let mut plan = CaseGenerator::new::<FuseOp>(seed, (FUSE as usize + 2, 12), false);
    let mut rules: Vec<(&'static str, u64)> = FuseOp::rules().iter().map(|r| (r.name, 0)).collect();
    let recording = Recording {
        history: false,
        trace,
        linearized: true,
    };
    let hb = Heartbeat::default();
    let ran =
        crate::catch::catch(|| executor.execute_generated(&mut plan, recording, &hb, &mut rules))?;
    let counts = rules.iter().map(|r| r.1).collect();
    Ok((
        ran.map(|g| (g.execution.failure, g.ran))
            .map_err(|(e, step)| (e.message().to_string(), step)),
        counts,
    ))
}

#[test]
fn one_guard_and_four_guards_report_the_same() {
    let mut blown = 0;
    for blow in [
        Blow::Nothing,
        Blow::Precondition,
        Blow::Strategy,
        Blow::Model,
        Blow::System,
        Blow::Postcondition,
        Blow::Invariant,
    ] {
        for seed in 0..20 {
            let guarded = run_case(blow, seed, true);
            let folded = run_case(blow, seed, false);
            assert_eq!(folded, guarded, "{blow:?}, seed {seed}");
            // Not vacuous: each part blew where it should, and was told apart.
            let at = StepId::prefix(FUSE as usize);
            if blow != Blow::Nothing && !matches!(&folded, Ok((Ok((None, _)), _))) {
                blown += 1;
            }
            match (blow, &folded) {
                // The strategy is drawn only when its rule is chosen at that step.
                (Blow::Nothing | Blow::Strategy, Ok((Ok((None, _)), _))) => {}
                (Blow::Precondition | Blow::Strategy, Ok((Err((message, 3)), _))) => {
                    assert!(message.contains("panicked while generating"), "{message}");
                    assert!(message.contains("blew"), "{message}");
                }
                (Blow::Model, Ok((Ok((Some(f), 4)), _))) => {
                    assert_eq!(f.step, Some(at));
                    assert!(
                        matches!(&f.kind, FailureKind::ModelPanic { message } if message.contains("model blew")),
                        "{f:?}"
                    );
                }
                (Blow::System | Blow::Invariant, Ok((Ok((Some(f), 4)), _))) => {
                    assert_eq!(f.step, Some(at));
                    assert!(
                        matches!(&f.kind, FailureKind::Panic { message } if message.contains("blew")),
                        "{f:?}"
                    );
                }
                // Neither path guards `outputs_match`: its panic leaves the executor.
                (Blow::Postcondition, Err(message)) => {
                    assert!(message.contains("postcondition blew"), "{message}");
                }
                (blow, outcome) => panic!("{blow:?}, seed {seed}: {outcome:?}"),
            }
        }
    }
    // Every seed blew, but the strategy's when its rule was not chosen at that step.
    assert!(blown > 5 * 20, "{blown}");
}
