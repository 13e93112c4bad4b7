//! The checker keeps its bounds: memory linear in the length of a sequential history, unknown
//! reads dropped before they multiply the search, absurd timeouts accepted, and a model that
//! panics reported with the operation and state rather than taking the caller down.

use super::RegHistory;
use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut};
use stateprop::{Model, StateMachine};
use std::time::Duration;

use crate::histories::sequential;

#[test]
fn sequential_histories_take_memory_linear_in_their_length() {
    let peak = |n| {
        let r = check_linearizable(
            &sequential(n),
            &CasRegister::default(),
            &CheckConfig::default(),
        );
        assert_eq!(r.verdict, Verdict::Holds);
        r.peak_bytes
    };
    let (small, large) = (peak(20_000), peak(40_000));
    // An n-bit set per cache entry would take n * n / 8 bytes: 50 MB here, and 4x for 2x.
    assert!(small < 20_000 * 400, "{small} bytes for 20,000 operations");
    assert!(
        large * 10 < small * 25,
        "{small} bytes for 20,000 operations but {large} for 40,000: not linear"
    );
}

#[test]
fn unknown_reads_are_dropped_before_the_search() {
    // A stale read after a write: not linearizable, whatever 40 reads that never returned saw.
    let mut h: RegHistory = History::new();
    h.push(
        0,
        RegisterOp::Write { value: 1 },
        0,
        10,
        RegisterOut::Written,
    );
    for c in 0..40 {
        h.push_unknown(10 + c, RegisterOp::Read, 1 + c);
    }
    h.push(1, RegisterOp::Read, 60, 70, RegisterOut::Value(None));
    // Kept, each unknown read could be placed anywhere or nowhere: 2^40 sets to explore.
    let config = CheckConfig::default().max_memory(16 << 20);
    let r = check_linearizable(&h, &CasRegister::default(), &config);
    let Verdict::Violated(v) = &r.verdict else {
        panic!("{:?} after {} steps", r.verdict, r.steps)
    };
    assert_eq!(v.blocked, 41, "the stale read is named");
    assert_eq!(v.linearized, vec![0]);
    assert!(r.steps < 100, "{} steps", r.steps);
    // Dropping them is sound: a linearizable history stays so, and they are not listed.
    h.ops[41].output = Some(RegisterOut::Value(Some(1)));
    let r = check_linearizable(&h, &CasRegister::default(), &config);
    assert_eq!(r.verdict, Verdict::Holds);
    assert_eq!(r.orders[0].ops, vec![0, 41]);
}

#[test]
fn unknown_gets_of_a_key_value_store_are_dropped_too() {
    let mut h: History<KvOp, KvOut> = History::new();
    let key = |k: u64| format!("k{}", k % 2);
    for c in 0..40 {
        h.push_unknown(c, KvOp::Get { key: key(c) }, c);
    }
    h.push(
        50,
        KvOp::Put {
            key: "k0".into(),
            value: "x".into(),
        },
        0,
        100,
        KvOut::Done,
    );
    h.push(
        51,
        KvOp::Get { key: "k0".into() },
        101,
        102,
        KvOut::Value("y".into()),
    );
    let config = CheckConfig::default().max_memory(16 << 20);
    let r = check_linearizable_by(&h, &KvModel::default(), &config, |op| op.key().to_string());
    assert!(matches!(r.verdict, Verdict::Violated(_)), "{:?}", r.verdict);
    assert!(KvModel::is_read_only(&KvOp::Get { key: "k".into() }));
    assert!(!KvModel::is_read_only(&KvOp::Delete { key: "k".into() }));
    assert!(CasRegister::is_read_only(&RegisterOp::Read));
    assert!(!CasRegister::is_read_only(&RegisterOp::Cas {
        from: 1,
        to: 1
    }));
}

#[test]
fn the_longest_timeout_means_no_deadline() {
    let h = sequential(100);
    for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        let config = CheckConfig::default().timeout(timeout);
        let r = check_linearizable(&h, &CasRegister::default(), &config);
        assert_eq!(r.verdict, Verdict::Holds, "{timeout:?}");
    }
}

/// A register whose model has a bug: it panics on some values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Fragile)]
pub enum FragileOp {
    /// Set the value.
    Set {
        /// The value.
        #[strategy(0..5u8)]
        value: u8,
        /// Which register (the partition).
        #[strategy(0..2u8)]
        key: u8,
    },
    /// Double the value (the model's bug: it overflows past 127).
    Double {
        /// Which register.
        #[strategy(0..2u8)]
        key: u8,
    },
}

impl FragileOp {
    fn key(&self) -> u8 {
        match self {
            FragileOp::Set { key, .. } | FragileOp::Double { key } => *key,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fragile {
    value: u8,
}

impl Model for Fragile {
    type Op = FragileOp;
    type Output = u8;

    fn step(&mut self, op: &FragileOp) -> u8 {
        match op {
            FragileOp::Set { value, .. } => self.value = *value,
            FragileOp::Double { .. } => {
                assert!(self.value < 128, "cannot double {}", self.value);
                self.value *= 2;
            }
        }
        self.value
    }
}

#[test]
fn a_model_that_panics_is_reported_with_the_operation_and_the_state() {
    let mut h = History::new();
    h.push(0, FragileOp::Set { value: 3, key: 0 }, 0, 1, 3);
    h.push(0, FragileOp::Double { key: 0 }, 2, 3, 6);
    h.push(1, FragileOp::Set { value: 200, key: 1 }, 4, 5, 200);
    h.push(1, FragileOp::Double { key: 1 }, 6, 7, 144);
    let r = check_linearizable(&h, &Fragile::default(), &CheckConfig::default());
    let Verdict::Unknown(reason) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    let p = r.model_panic.as_ref().expect("the panic is reported");
    assert_eq!(p.op, 3);
    assert_eq!(p.op_text, "Double { key: 1 }");
    assert_eq!(p.state, "Fragile { value: 200 }");
    assert!(p.message.contains("cannot double 200"), "{}", p.message);
    assert_eq!(p.partition, None);
    assert!(
        reason.contains("op 3 (Double { key: 1 })") && reason.contains("cannot double 200"),
        "{reason}"
    );
    // Partitioned, the partition is named too.
    let r = check_linearizable_by(&h, &Fragile::default(), &CheckConfig::default(), |op| {
        op.key()
    });
    let p = r.model_panic.expect("reported");
    assert_eq!(p.partition.as_deref(), Some("1"));
    assert_eq!((p.op, p.state.as_str()), (3, "Fragile { value: 200 }"));
}

#[test]
fn the_default_memory_cap_is_half_of_physical_memory_at_most_4_gib() {
    let cap = CheckConfig::default_max_memory();
    assert!(cap > 0 && cap <= 4 << 30, "{cap}");
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
    if let Some(kib) = total {
        assert_eq!(cap, (kib * 1024 / 2).min(4 << 30));
    }
}
