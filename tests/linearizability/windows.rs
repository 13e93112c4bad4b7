//! The cache key is the window of operations that can still be reordered (a frontier, the words
//! after it, and the operations that never returned), so it needs histories longer than one
//! 64-operation word to be exercised: long sequential stretches between small concurrent blocks,
//! with unknown writes that float across them and unknown reads that are dropped. The oracle is
//! a separate, plain search over every order, memoizing refuted (remaining set, state) pairs.

use super::{random_op, random_output, RegHistory, Rng};
use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::Model;
use std::collections::HashSet;

/// Whether some order of the `remaining` operations, respecting real time, matches the model
/// from `state`; an operation with an unknown outcome may take effect or be left out.
fn oracle(
    h: &RegHistory,
    state: &CasRegister,
    remaining: &mut Vec<bool>,
    refuted: &mut HashSet<(Vec<bool>, CasRegister)>,
) -> bool {
    let live = |i: usize, remaining: &[bool]| remaining[i];
    if !(0..h.len()).any(|i| live(i, remaining) && !h.ops[i].is_unknown()) {
        return true;
    }
    if refuted.contains(&(remaining.clone(), state.clone())) {
        return false;
    }
    // An operation may go next unless a remaining one returned before it was invoked.
    let first_return = (0..h.len())
        .filter(|&j| live(j, remaining))
        .filter_map(|j| h.ops[j].ret)
        .min()
        .unwrap_or(u64::MAX);
    for i in 0..h.len() {
        if !live(i, remaining) {
            continue;
        }
        let o = &h.ops[i];
        if first_return < o.call {
            continue;
        }
        remaining[i] = false;
        let mut next = state.clone();
        let expected = next.step(&o.op);
        let fits = match &o.output {
            Some(actual) if o.ret.is_some() => next.outputs_match(&o.op, &expected, actual),
            _ => true,
        };
        let found = (fits && oracle(h, &next, remaining, refuted))
            || (o.is_unknown() && oracle(h, state, remaining, refuted));
        remaining[i] = true;
        if found {
            return true;
        }
    }
    refuted.insert((remaining.clone(), state.clone()));
    false
}

/// A small block of up to `max` random operations from 3 clients starting at `t`, often
/// overlapping, some never returning; the outputs are mostly what `model` gives in the order
/// the operations are made (which real time need not allow), now and then random. Returns the
/// time after the block's known operations.
fn block(rng: &mut Rng, h: &mut RegHistory, model: &mut CasRegister, t: u64, max: u64) -> u64 {
    let n = rng.below(max + 1);
    let mut free = [t; 3];
    for _ in 0..n {
        let c = rng.below(3) as usize;
        let call = free[c] + rng.below(4);
        let op = random_op(rng);
        match rng.below(10) {
            0 => {
                h.push_unknown(10 + c as u64, op, call);
                free[c] = u64::MAX / 4;
            }
            1 => {
                // A read that returned without a usable value.
                h.push(
                    10 + c as u64,
                    RegisterOp::Read,
                    call,
                    call + 2,
                    RegisterOut::Written,
                );
                h.ops.last_mut().expect("pushed").output = None;
                free[c] = call + 3;
            }
            _ => {
                let ret = call + 1 + rng.below(6);
                let expected = model.step(&op);
                let out = if rng.below(8) == 0 {
                    random_output(rng, &op)
                } else {
                    expected
                };
                h.push(10 + c as u64, op, call, ret, out);
                free[c] = ret + 1;
            }
        }
        if free.iter().all(|&f| f >= u64::MAX / 4) {
            break;
        }
    }
    free.iter()
        .copied()
        .filter(|&f| f < u64::MAX / 4)
        .max()
        .unwrap_or(t)
        + 1
}

/// A sequential stretch of `n` operations from `t`: writes each followed by a read of what it
/// wrote, now and then a read of a random value (which a floating unknown write may explain),
/// an unknown read, or a read without a value.
fn stretch(rng: &mut Rng, h: &mut RegHistory, model: &mut CasRegister, mut t: u64, n: u64) -> u64 {
    let mut last = None;
    for k in 0..n {
        let (call, ret) = (t, t + 1);
        t += 2;
        if k % 2 == 0 {
            let value = rng.below(3) as i64;
            last = Some(value);
            model.value = last;
            h.push(
                0,
                RegisterOp::Write { value },
                call,
                ret,
                RegisterOut::Written,
            );
            continue;
        }
        match rng.below(30) {
            0 => h.push(
                1,
                RegisterOp::Read,
                call,
                ret,
                random_output(rng, &RegisterOp::Read),
            ),
            1 => h.push_unknown(100 + k, RegisterOp::Read, call),
            2 => {
                h.push(1, RegisterOp::Read, call, ret, RegisterOut::Written);
                h.ops.last_mut().expect("pushed").output = None;
            }
            _ => h.push(1, RegisterOp::Read, call, ret, RegisterOut::Value(last)),
        }
    }
    t
}

#[test]
fn agrees_with_an_oracle_on_long_histories_with_sequential_stretches() {
    let mut rng = Rng(20261130);
    let (mut yes, mut no, mut long) = (0, 0, 0);
    for case in 0..1500 {
        let mut h: RegHistory = History::new();
        let m = &mut CasRegister::default();
        let mut t = block(&mut rng, &mut h, m, 0, 5);
        let n = rng.below(150);
        t = stretch(&mut rng, &mut h, m, t, n);
        t = block(&mut rng, &mut h, m, t, 5);
        if rng.below(2) == 0 {
            let n = rng.below(80);
            t = stretch(&mut rng, &mut h, m, t, n);
            block(&mut rng, &mut h, m, t, 4);
        }
        long += usize::from(h.len() > 128);
        let expected = oracle(
            &h,
            &CasRegister::default(),
            &mut vec![true; h.len()],
            &mut HashSet::new(),
        );
        let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
        let found = match &report.verdict {
            Verdict::Holds => true,
            Verdict::Violated(_) => false,
            other => panic!("case {case}: unknown without a budget: {other:?}"),
        };
        assert_eq!(
            found, expected,
            "case {case}: checker and oracle disagree on {h:#?}"
        );
        if expected {
            yes += 1;
            // The linearization found replays: every known output comes out of the model.
            let mut model = CasRegister::default();
            for &i in &report.orders[0].ops {
                let out = model.step(&h.ops[i].op);
                if let (Some(_), Some(actual)) = (h.ops[i].ret, &h.ops[i].output) {
                    assert_eq!(&out, actual, "case {case}: op {i}");
                }
            }
        } else {
            no += 1;
        }
    }
    // Both answers, and keys spanning several words, must be well represented.
    assert!(yes > 250 && no > 250, "{yes} linearizable, {no} not");
    assert!(long > 300, "only {long} histories past two words");
}
