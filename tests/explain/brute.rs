//! Small random histories, judged by brute force rather than by the checker: every minimal
//! violation is a real one (the history with everything else doubted has no linearization), is
//! 1-minimal when it says so, and relaxing never turns a linearizable history into a violation.

use crate::RegHistory;
use stateprop::check::violations::relax;
use stateprop::check::{check_linearizable, CheckConfig, Verdict};
use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
use stateprop::Model;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn random_history(rng: &mut Rng) -> RegHistory {
    let mut h = RegHistory::new();
    let mut free = [0u64; 3];
    for _ in 0..3 + rng.below(5) {
        let c = rng.below(3) as usize;
        let call = free[c] + rng.below(3);
        let v = 1 + rng.below(2) as i64;
        let (op, out) = match rng.below(4) {
            0 | 1 => (RegisterOp::Write { value: v }, RegisterOut::Written),
            2 => {
                let seen = rng.below(3) as i64;
                (
                    RegisterOp::Read,
                    RegisterOut::Value((seen > 0).then_some(seen)),
                )
            }
            _ => (
                RegisterOp::Cas { from: v, to: 3 - v },
                RegisterOut::Cas(rng.below(2) == 0),
            ),
        };
        if rng.below(8) == 0 {
            h.push_unknown(c as u64, op, call);
            free[c] = u64::MAX / 4;
        } else {
            let ret = call + 1 + rng.below(4);
            h.push(c as u64, op, call, ret, out);
            free[c] = ret + 1;
        }
    }
    h
}

/// Some order respecting real time in which every operation with a known output returns it
/// (operations with an unknown outcome may be left out; one that returned must come before
/// everything called after its return).
fn brute(h: &RegHistory) -> bool {
    fn go(h: &RegHistory, state: &CasRegister, left: &mut Vec<usize>) -> bool {
        if left.iter().all(|&i| h.ops[i].output.is_none()) {
            return true;
        }
        for k in 0..left.len() {
            let i = left[k];
            let o = &h.ops[i];
            if left
                .iter()
                .any(|&j| j != i && h.ops[j].ret.is_some_and(|r| r < o.call))
            {
                continue;
            }
            let mut next = state.clone();
            let says = next.step(&o.op);
            if o.output
                .as_ref()
                .is_some_and(|out| !next.outputs_match(&o.op, &says, out))
            {
                continue;
            }
            left.swap_remove(k);
            let found = go(h, &next, left);
            left.push(i);
            let last = left.len() - 1;
            left.swap(k, last);
            if found {
                return true;
            }
        }
        false
    }
    go(h, &CasRegister::default(), &mut (0..h.ops.len()).collect())
}

/// `outcomes` as recorded, `effects` within their intervals, reads deleted, the rest unknown
/// unless called after every kept outcome was known.
fn doubted(h: &RegHistory, outcomes: &[usize], effects: &[usize]) -> RegHistory {
    let universe: Vec<usize> = (0..h.ops.len()).collect();
    crate::minimal::doubted::<CasRegister>(h, &universe, outcomes, effects)
}

#[test]
fn minimal_violations_hold_by_brute_force() {
    let mut rng = Rng(0x5eed_1234_abcd);
    let (mut violations_seen, mut proven) = (0, 0);
    for _ in 0..10_000 {
        let h = random_history(&mut rng);
        let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
        assert_eq!(matches!(report.verdict, Verdict::Holds), brute(&h), "{h:?}");
        if brute(&h) {
            // Relaxing any operation of a linearizable history keeps it linearizable.
            for i in 0..h.ops.len() {
                assert!(brute(&relax::<CasRegister>(&h, &[i])), "{i} {h:?}");
            }
            continue;
        }
        violations_seen += 1;
        let m = crate::minimal_register(&h, &report);
        assert!(!brute(&m.history), "{m:?}");
        assert!(!brute(&doubted(&h, &m.outcomes, &m.effects)), "{h:?} {m:?}");
        if m.one_minimal {
            proven += 1;
            for &x in &m.ops {
                let without =
                    |s: &[usize]| -> Vec<usize> { s.iter().copied().filter(|&i| i != x).collect() };
                assert!(
                    brute(&doubted(&h, &without(&m.outcomes), &without(&m.effects))),
                    "{x} could go: {h:?} {m:?}"
                );
            }
        }
        // Every violation reported after relaxing is one of the original history.
        let all = crate::register_violations(&h, 3, Some(&report));
        // Each is a violation of the history with the earlier culprits relaxed, which allows
        // more than the history: so it is one of the history too.
        for f in &all.found {
            let m = f.minimal.as_ref().unwrap();
            let before = relax::<CasRegister>(&h, &f.relaxed_before);
            assert!(
                !brute(&doubted(&before, &m.outcomes, &m.effects)),
                "{h:?} {f:?}"
            );
        }
    }
    assert!(violations_seen > 1_000, "{violations_seen}");
    assert_eq!(proven, violations_seen);
}
