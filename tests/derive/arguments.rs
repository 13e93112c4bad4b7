//! Preconditions over arguments, `Var`s filtered by the model, and fields whose strategy reads
//! the fields drawn before them.

use crate::generate;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use stateprop::generate::validate_program;
use stateprop::prelude::*;
use stateprop::{program_from_unstructured, Program};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::fd::{Fd, Out};

/// A descriptor table that hands out the lowest free slot, so closed ids come back.
#[derive(Debug, Clone, Default)]
pub struct Files {
    open: BTreeSet<Fd>,
    data: BTreeMap<Fd, Vec<u8>>,
}

impl Files {
    fn is_open(&self, fd: &Fd) -> bool {
        self.open.contains(fd)
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
pub enum FileOp {
    Open,
    #[rule(precondition = |m: &Files, fd: &Var<Fd>| m.is_open(fd))]
    Write {
        fd: Var<Fd>,
        byte: u8,
    },
    #[rule(precondition = |m, fd: &Var<Fd>| m.is_open(fd))]
    Close {
        fd: Var<Fd>,
    },
    Range {
        #[strategy(0..50u32)]
        lo: u32,
        #[strategy(|_m: &Files, lo: &u32| *lo..=100u32)]
        hi: u32,
    },
    #[rule(precondition = |_m: &Files, n: &u8| n.is_multiple_of(2))]
    Even {
        n: u8,
    },
}

impl Model for Files {
    type Op = FileOp;
    type Output = Out;
    fn step(&mut self, op: &FileOp) -> Out {
        match op {
            FileOp::Open => {
                let fd = (0..).map(Fd).find(|fd| !self.open.contains(fd)).unwrap();
                self.open.insert(fd);
                self.data.insert(fd, Vec::new());
                Out::Opened(fd)
            }
            FileOp::Write { fd, byte } => {
                self.data.entry(**fd).or_default().push(*byte);
                Out::Done
            }
            FileOp::Close { fd } => {
                self.open.remove(&**fd);
                self.data.remove(&**fd);
                Out::Done
            }
            FileOp::Range { .. } | FileOp::Even { .. } => Out::Done,
        }
    }
}

const WRITE: usize = 1;
const EVEN: usize = 4;

/// Replays `ops` on the model and asserts each step's arguments are eligible where it runs.
fn assert_eligible(ops: &[FileOp]) {
    let mut model = Files::default();
    let mut outputs: Vec<Out> = Vec::new();
    for op in ops {
        let mut bound = op.clone();
        assert!(bound.bind_vars(&outputs), "{op:?} names a missing result");
        match &bound {
            FileOp::Write { fd, .. } | FileOp::Close { fd } => {
                assert!(
                    model.is_open(fd),
                    "{op:?} names a closed descriptor in {model:?}"
                )
            }
            FileOp::Range { lo, hi } => assert!(lo <= hi, "{op:?} is out of order"),
            FileOp::Even { n } => assert_eq!(n % 2, 0, "{op:?} is odd"),
            FileOp::Open => {}
        }
        outputs.push(model.step(&bound));
    }
}

#[test]
fn a_precondition_over_an_argument_holds_for_every_generated_operation() {
    let mut runner = TestRunner::deterministic();
    for _ in 0..200 {
        let op = generate::<Files>(&mut runner, EVEN, &Files::default(), &[]).unwrap();
        let FileOp::Even { n } = op else {
            panic!("{op:?}")
        };
        assert_eq!(n % 2, 0);
    }
    assert!(FileOp::Even { n: 4 }.admits(&Files::default()));
    assert!(!FileOp::Even { n: 3 }.admits(&Files::default()));
    assert!(FileOp::checks_args());
}

#[test]
fn validation_refuses_an_argument_its_precondition_refuses() {
    let program = Program::sequential(vec![FileOp::Even { n: 3 }]);
    let err = validate_program(&Files::default(), &program).unwrap_err();
    assert!(err.contains("FileOp::Even { n: 3 }"), "{err}");
    validate_program(
        &Files::default(),
        &Program::sequential(vec![FileOp::Even { n: 2 }]),
    )
    .unwrap();
}

#[test]
fn a_var_is_chosen_only_among_results_the_precondition_admits() {
    // Descriptors 0 and 1 opened, 0 closed: a write may name step 1 only.
    let mut model = Files::default();
    let mut outputs = Vec::new();
    for op in [FileOp::Open, FileOp::Open] {
        outputs.push(model.step(&op));
    }
    let close = FileOp::Close { fd: Var::at(0) };
    let mut bound = close.clone();
    bound.bind_vars(&outputs);
    outputs.push(model.step(&bound));
    assert!(FileOp::enabled(WRITE, &model, &outputs));
    let mut runner = TestRunner::deterministic();
    for _ in 0..100 {
        let op = generate::<Files>(&mut runner, WRITE, &model, &outputs).unwrap();
        let FileOp::Write { fd, .. } = op else {
            panic!("{op:?}")
        };
        assert_eq!(fd, Var::at(1));
    }
    // With every descriptor closed the rule is not enabled.
    let mut bound = FileOp::Close { fd: Var::at(1) };
    bound.bind_vars(&outputs);
    outputs.push(model.step(&bound));
    assert!(!FileOp::enabled(WRITE, &model, &outputs));
    // And validation refuses a write to a closed descriptor.
    let program = Program::sequential(vec![
        FileOp::Open,
        FileOp::Close { fd: Var::at(0) },
        FileOp::Write {
            fd: Var::at(0),
            byte: 1,
        },
    ]);
    let err = validate_program(&Files::default(), &program).unwrap_err();
    assert!(err.contains("step 2"), "{err}");
}

#[test]
fn dependent_fields_read_the_fields_drawn_before_them() {
    let mut runner = TestRunner::deterministic();
    let mut distinct = BTreeSet::new();
    for _ in 0..300 {
        let op = generate::<Files>(&mut runner, 3, &Files::default(), &[]).unwrap();
        let FileOp::Range { lo, hi } = op else {
            panic!("{op:?}")
        };
        assert!(lo <= hi && hi <= 100, "{lo} > {hi}");
        distinct.insert((lo, hi));
    }
    assert!(
        distinct.len() > 50,
        "too few distinct pairs: {}",
        distinct.len()
    );
}

proptest! {
    #![proptest_config(PtConfig::with_cases(200))]

    /// Whatever the random source, every generated program is valid and every step's
    /// arguments are eligible where it runs.
    #[test]
    fn every_generated_program_keeps_its_arguments_eligible(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut u = arbitrary::Unstructured::new(&bytes);
        let ops = program_from_unstructured(&Files::default(), &mut u, 40).unwrap();
        assert_eligible(&ops);
        validate_program(&Files::default(), &Program::sequential(ops)).unwrap();
    }
}

/// Answers every write after the first close wrongly, whichever descriptor it names: the
/// shrinker is then free to point the write at any descriptor, and only the precondition keeps
/// it on an open one.
#[derive(Default)]
struct SloppyFiles {
    model: Files,
    closed: bool,
}

impl System<Files> for SloppyFiles {
    fn apply(&mut self, op: &FileOp) -> Out {
        let out = self.model.step(op);
        match op {
            FileOp::Close { .. } => self.closed = true,
            FileOp::Write { .. } if self.closed => return Out::Opened(Fd(99)),
            _ => {}
        }
        out
    }
}

#[test]
fn shrunk_programs_keep_arguments_eligible() {
    for seed in [1, 2, 3, 0xDEAD_BEEF, 20261121] {
        let config = Config::default().ignore_env().persist(false).seed(seed);
        let result = stateprop::Runner::<Files>::new(config).run_default::<SloppyFiles>();
        assert!(result.failed(), "seed {seed}: not found");
        assert_eligible(&result.minimal);
        // The shortest failure: two opens (one may reuse the first's number) and a close, in
        // some order, then a write to the descriptor still open. The order differs by seed:
        // none of the three orders simplifies into another.
        let minimal: Vec<String> = result.minimal.iter().map(|op| op.to_rust()).collect();
        let mut kinds: Vec<&str> = minimal
            .iter()
            .map(|s| &s[..s.find(' ').unwrap_or(s.len())])
            .collect();
        assert!(
            minimal.last().is_some_and(|w| w.ends_with("byte: 0 }")),
            "seed {seed}:\n{}",
            result.report.text()
        );
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "FileOp::Close",
                "FileOp::Open",
                "FileOp::Open",
                "FileOp::Write"
            ],
            "seed {seed}:\n{}",
            result.report.text()
        );
    }
}
