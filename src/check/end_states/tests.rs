//! End states against brute force: every order of a small history that keeps real-time order
//! (and places each operation of unknown outcome, or leaves it out), stepped through the model.

use super::*;
use crate::history::Operation;
use crate::models::{CasRegister, Counter, CounterOp, CounterOut, RegisterOp, RegisterOut};
use crate::spec::step_on;

/// A small deterministic generator (xorshift), so a failing seed reruns exactly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Every end state of `history` from `initial`, by trying every order: an operation may go next
/// when every operation that returned before its call has gone; a complete order places every
/// operation that returned; one that did not may be placed anywhere after its call, or never.
fn brute<M: Model + Hash + Eq>(history: &History<M::Op, M::Output>, initial: &M) -> HashSet<M> {
    fn walk<M: Model + Hash + Eq>(
        h: &[Operation<M::Op, M::Output>],
        placed: u32,
        state: &M,
        out: &mut HashSet<M>,
    ) {
        let known_placed = h
            .iter()
            .enumerate()
            .all(|(i, op)| op.is_unknown() || placed & (1 << i) != 0);
        if known_placed {
            out.insert(state.clone());
        }
        for (i, op) in h.iter().enumerate() {
            if placed & (1 << i) != 0 {
                continue;
            }
            // Touching intervals are concurrent, as in the checker.
            let ready = h.iter().enumerate().all(|(j, other)| {
                placed & (1 << j) != 0 || other.ret.is_none_or(|ret| ret >= op.call)
            });
            if !ready {
                continue;
            }
            let mut next = state.clone();
            let actual = match (&op.ret, &op.output) {
                (Some(_), Some(out)) => Some(out),
                _ => None,
            };
            if step_on(&mut next, &op.op, actual).is_ok() {
                walk(h, placed | 1 << i, &next, out);
            }
        }
    }
    let mut out = HashSet::new();
    walk(&history.ops, 0, initial, &mut out);
    out
}

/// A random history of up to `max_ops` operations by three clients: each operation takes effect
/// on a real model at a random point between its call and return (so the history is
/// linearizable), some never return (their client stops), and now and then an output is
/// corrupted (so some are not).
fn random_history<M: Model + Default>(
    rng: &mut Rng,
    max_ops: usize,
    mut draw_op: impl FnMut(&mut Rng) -> M::Op,
    mut corrupt: impl FnMut(&mut Rng, M::Output) -> M::Output,
) -> History<M::Op, M::Output> {
    let mut real = M::default();
    let mut history = History::new();
    // Per client: the pending operation (index in the history) and whether it took effect.
    let mut pending: [Option<(usize, bool)>; 3] = [None; 3];
    let mut stopped = [false; 3];
    let mut time = 0;
    let mut issued = 0;
    while (issued < max_ops && stopped.contains(&false)) || pending.iter().any(Option::is_some) {
        let c = rng.below(3) as usize;
        time += 1;
        match pending[c] {
            None if issued < max_ops && !stopped[c] => {
                history.ops.push(Operation {
                    client: c as u64,
                    op: draw_op(rng),
                    call: time,
                    ret: None,
                    output: None,
                });
                pending[c] = Some((history.ops.len() - 1, false));
                issued += 1;
            }
            None => {}
            Some((i, false)) => {
                let out = real.step(&history.ops[i].op);
                history.ops[i].output = Some(out);
                pending[c] = Some((i, true));
            }
            Some((i, true)) => {
                match rng.below(8) {
                    // It never returns: unknown outcome, though it took effect.
                    0 => {
                        history.ops[i].output = None;
                        stopped[c] = true;
                    }
                    1 => {
                        let out = history.ops[i].output.take().unwrap();
                        history.ops[i].output = Some(corrupt(rng, out));
                        history.ops[i].ret = Some(time);
                    }
                    _ => history.ops[i].ret = Some(time),
                }
                pending[c] = None;
            }
        }
    }
    // An operation that may never have taken effect: invoked, no effect yet, never returned.
    if rng.below(3) == 0 {
        let c = rng.below(3);
        history.ops.push(Operation {
            client: c + 10,
            op: draw_op(rng),
            call: time + 1,
            ret: None,
            output: None,
        });
    }
    history
}

/// Every end state `end_states` visits, with the visitor refusing all of them.
fn enumerated<M: Model + Hash + Eq + std::fmt::Debug>(
    history: &History<M::Op, M::Output>,
    initial: &M,
) -> Option<HashSet<M>> {
    let mut met = Vec::new();
    let ended = end_states(
        history,
        initial,
        &CheckConfig::default(),
        10_000,
        |s: &M| {
            met.push(s.clone());
            Err(())
        },
    );
    let set: HashSet<M> = met.iter().cloned().collect();
    assert_eq!(set.len(), met.len(), "a state was visited twice: {met:?}");
    match ended {
        EndStates::Refused { tried, state, .. } => {
            assert_eq!(tried, met.len());
            assert_eq!(state, met[0], "the first refused state is reported");
            Some(set)
        }
        EndStates::Undecided(why) => {
            assert!(met.is_empty(), "{why}, after visiting {met:?}");
            assert_eq!(why, "the history has no linearization");
            None
        }
        EndStates::Accepted => panic!("nothing was accepted"),
    }
}

fn agrees_with_brute_force<M: Model + Default + Hash + Eq + std::fmt::Debug>(
    seed: u64,
    history: &History<M::Op, M::Output>,
) -> bool {
    let expected = brute(history, &M::default());
    let got = enumerated(history, &M::default());
    match got {
        None => assert!(
            expected.is_empty(),
            "seed {seed}: undecided, but brute force finds {expected:?} in {history:?}"
        ),
        Some(got) => assert_eq!(got, expected, "seed {seed}: {history:?}"),
    }
    expected.len() > 1
}

#[test]
fn register_end_states_match_brute_force() {
    let mut several = 0;
    let mut none = 0;
    for seed in 1..600u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let max_ops = 2 + rng.below(6) as usize;
        let history = random_history::<CasRegister>(
            &mut rng,
            max_ops,
            |r| match r.below(3) {
                0 => RegisterOp::Read,
                1 => RegisterOp::Write {
                    value: r.below(3) as i64,
                },
                _ => RegisterOp::Cas {
                    from: r.below(3) as i64,
                    to: r.below(3) as i64,
                },
            },
            |r, out| match out {
                RegisterOut::Value(_) => RegisterOut::Value(Some(r.below(3) as i64)),
                RegisterOut::Cas(b) => RegisterOut::Cas(!b),
                other => other,
            },
        );
        if agrees_with_brute_force::<CasRegister>(seed, &history) {
            several += 1;
        }
        if brute(&history, &CasRegister::default()).is_empty() {
            none += 1;
        }
    }
    // The cases that matter happened: several end states, and no linearization at all.
    assert!(several > 50, "{several}");
    assert!(none > 10, "{none}");
}

#[test]
fn counter_end_states_match_brute_force() {
    let mut several = 0;
    for seed in 1..600u64 {
        let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let max_ops = 2 + rng.below(6) as usize;
        let history = random_history::<Counter>(
            &mut rng,
            max_ops,
            |r| match r.below(2) {
                0 => CounterOp::Read,
                _ => CounterOp::Add {
                    by: 1 + r.below(3) as i64,
                },
            },
            |r, out| match out {
                CounterOut::Value(v) => CounterOut::Value(v + 1 + r.below(2) as i64),
                other => other,
            },
        );
        if agrees_with_brute_force::<Counter>(seed, &history) {
            several += 1;
        }
    }
    assert!(several > 50, "{several}");
}

fn op<Op, Out>(
    client: u64,
    op: Op,
    call: u64,
    ret: Option<u64>,
    output: Option<Out>,
) -> Operation<Op, Out> {
    Operation {
        client,
        op,
        call,
        ret,
        output,
    }
}

#[test]
fn overlapping_writes_end_in_either_value_and_the_first_accepted_stops_the_walk() {
    let mut history = History::new();
    history.ops.push(op(
        1,
        RegisterOp::Write { value: 1 },
        0,
        Some(3),
        Some(RegisterOut::Written),
    ));
    history.ops.push(op(
        2,
        RegisterOp::Write { value: 2 },
        1,
        Some(2),
        Some(RegisterOut::Written),
    ));
    let all = enumerated(&history, &CasRegister::default()).unwrap();
    let expected: HashSet<_> = [CasRegister::new(Some(1)), CasRegister::new(Some(2))].into();
    assert_eq!(all, expected);
    // Accepting only value 1 or only value 2: each is found, whichever comes first.
    for wanted in [1, 2] {
        let mut visits = 0;
        let ended = end_states(
            &history,
            &CasRegister::default(),
            &CheckConfig::default(),
            8,
            |s| {
                visits += 1;
                if s.value == Some(wanted) {
                    Ok(())
                } else {
                    Err(())
                }
            },
        );
        assert!(matches!(ended, EndStates::Accepted));
        assert!(visits <= 2);
    }
    // Accepting anything stops at the first state.
    let mut visits = 0;
    let ended = end_states(
        &history,
        &CasRegister::default(),
        &CheckConfig::default(),
        8,
        |_| {
            visits += 1;
            Ok::<(), ()>(())
        },
    );
    assert!(matches!(ended, EndStates::Accepted));
    assert_eq!(visits, 1);
}

#[test]
fn a_cap_on_states_leaves_the_answer_undecided_not_refused() {
    let mut history = History::new();
    for (i, v) in [1, 2, 3].into_iter().enumerate() {
        history.ops.push(op(
            i as u64,
            RegisterOp::Write { value: v },
            i as u64,
            Some(10),
            Some(RegisterOut::Written),
        ));
    }
    let ended = end_states(
        &history,
        &CasRegister::default(),
        &CheckConfig::default(),
        2,
        |_| Err(()),
    );
    assert!(
        matches!(&ended, EndStates::Undecided(why) if why.contains("more than 2")),
        "{ended:?}"
    );
    let ended = end_states(
        &history,
        &CasRegister::default(),
        &CheckConfig::default(),
        3,
        |_| Err(()),
    );
    assert!(
        matches!(ended, EndStates::Refused { tried: 3, .. }),
        "{ended:?}"
    );
}

#[test]
fn an_empty_history_ends_where_it_started() {
    let history = History::<RegisterOp, RegisterOut>::new();
    let initial = CasRegister::new(Some(4));
    assert_eq!(enumerated(&history, &initial).unwrap(), [initial].into());
}

// ---- `Var`s: cells numbered in creation order, set through a var naming their creation ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Cell(usize);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CellOut {
    Created(Cell),
    Done,
}

impl crate::FromOutput<CellOut> for Cell {
    fn from_output(output: &CellOut) -> Option<Cell> {
        match output {
            CellOut::Created(c) => Some(*c),
            CellOut::Done => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Cells(Vec<u32>);

#[derive(Debug, Clone, crate::StateMachine)]
#[state_machine(model = Cells)]
enum CellOp {
    Create { value: u32 },
    Set { cell: crate::Var<Cell>, value: u32 },
}

impl Model for Cells {
    type Op = CellOp;
    type Output = CellOut;
    fn step(&mut self, op: &CellOp) -> CellOut {
        match op {
            CellOp::Create { value } => {
                self.0.push(*value);
                CellOut::Created(Cell(self.0.len() - 1))
            }
            CellOp::Set { cell, value } => {
                self.0[cell.0] = *value;
                CellOut::Done
            }
        }
    }

    /// The system numbers cells its own way: any number is a creation, and the model's own
    /// number is what a var naming the creation stands for.
    fn accept(
        &mut self,
        _: &CellOp,
        expected: CellOut,
        actual: &CellOut,
    ) -> Result<CellOut, CellOut> {
        match (&expected, actual) {
            (CellOut::Created(_), CellOut::Created(_)) | (CellOut::Done, CellOut::Done) => {
                Ok(expected)
            }
            _ => Err(expected),
        }
    }
}

#[test]
fn vars_bind_to_the_model_s_outputs_along_each_order() {
    use crate::program::StepId;
    use crate::Var;
    let (b0, b1) = (|i| StepId::in_branch(0, i), |i| StepId::in_branch(1, i));
    let mut history = History::new();
    // Two overlapping creations, numbered by the system (100, 101) in an order the model
    // cannot check: either may be the model's cell 0.
    history.ops.push(op(
        1,
        CellOp::Create { value: 1 },
        0,
        Some(3),
        Some(CellOut::Created(Cell(100))),
    ));
    history.steps.push(b0(0));
    history.ops.push(op(
        2,
        CellOp::Create { value: 2 },
        1,
        Some(2),
        Some(CellOut::Created(Cell(101))),
    ));
    history.steps.push(b1(0));
    // Each branch then sets its own cell, called by the system's number; branch 1's set never
    // returned.
    let set = |branch: u16, cell, value| CellOp::Set {
        cell: Var::bound(StepId::in_branch(branch, 0), Cell(cell)),
        value,
    };
    history
        .ops
        .push(op(1, set(0, 100, 10), 4, Some(6), Some(CellOut::Done)));
    history.steps.push(b0(1));
    history.ops.push(op(2, set(1, 101, 20), 5, None, None));
    history.steps.push(b1(1));
    let all = enumerated(&history, &Cells::default()).unwrap();
    // Branch 0's creation first: its cell is 0. Branch 1's set took effect or not.
    let expected: HashSet<_> = [
        Cells(vec![10, 2]),
        Cells(vec![10, 20]),
        Cells(vec![2, 10]),
        Cells(vec![20, 10]),
    ]
    .into();
    assert_eq!(all, expected);
}
