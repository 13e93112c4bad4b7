//! The memory cap of the linearizability checker, proved by a measurement that is not the
//! checker's own estimate: this test binary counts every byte allocated and freed (a counting
//! global allocator, in its own test target so no other test pays for it) and asserts that the
//! live heap added during a check stays under the cap plus a small slack.
//!
//! The slack (64 KiB) covers what the checker does not count: the report and its strings, the
//! model states' own heap in the one search step in flight, and the allocator's rounding of the
//! counted vectors' capacities. The histories are built before the measurement starts; the
//! models' states here own no heap, except the key-value store's, whose searches each hold a
//! few of them at a time.

#[path = "../support/histories.rs"]
mod histories;

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Verdict};
use stateprop::history::History;
use stateprop::models::{CasRegister, KvModel, KvOp, KvOut};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the allocator may do it: the new block before the old one is freed.
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(live, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SLACK: usize = 64 << 10;

/// One measurement at a time: the counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result and the most heap it added at any moment.
fn peak_added<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let r = f();
    (r, PEAK.load(Relaxed) - base)
}

#[test]
fn a_hard_search_stays_under_its_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let h = histories::unreadable_reads();
    for cap in [256 << 10, 1 << 20, 4 << 20, 16 << 20] {
        let config = CheckConfig::default().max_memory(cap);
        let (r, peak) = peak_added(|| check_linearizable(&h, &CasRegister::default(), &config));
        assert!(
            matches!(&r.verdict, Verdict::Unknown(reason) if reason.contains("memory")),
            "cap {cap}: {:?}",
            r.verdict
        );
        assert!(
            peak <= cap as usize + SLACK,
            "cap {cap}: the heap grew by {peak} bytes (the checker counted {})",
            r.peak_bytes
        );
        // The cap is used, not merely respected by stopping early.
        assert!(peak > cap as usize / 2, "cap {cap}: only {peak} bytes used");
    }
}

#[test]
fn thousands_of_partitions_stay_under_the_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut h: History<KvOp, KvOut> = History::new();
    for k in 0..20_000u64 {
        let key = format!("k{k}");
        let put = KvOp::Put {
            key: key.clone(),
            value: "v".into(),
        };
        h.push(k, put, 2 * k, 2 * k + 5, KvOut::Done);
        h.push(
            k,
            KvOp::Get { key },
            2 * k + 6,
            2 * k + 7,
            KvOut::Value("v".into()),
        );
    }
    // Tight: it may end in "unknown". Ample: it must finish.
    for (cap, must_finish) in [(2u64 << 20, false), (16 << 20, true)] {
        let config = CheckConfig::default().max_memory(cap);
        let (r, peak) = peak_added(|| {
            check_linearizable_by(&h, &KvModel::default(), &config, |op| op.key().to_string())
        });
        match &r.verdict {
            Verdict::Holds => assert_eq!(r.partitions, 20_000),
            Verdict::Unknown(reason) => {
                assert!(
                    !must_finish && reason.contains("memory"),
                    "cap {cap}: {reason}"
                )
            }
            other => panic!("cap {cap}: {other:?}"),
        }
        assert!(
            peak <= cap as usize + SLACK,
            "the heap grew by {peak} bytes under a cap of {cap} (the checker counted {})",
            r.peak_bytes
        );
    }
}

#[test]
fn a_sequential_history_takes_heap_linear_in_its_length() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let h = histories::sequential(20_000);
    let (r, peak) =
        peak_added(|| check_linearizable(&h, &CasRegister::default(), &CheckConfig::default()));
    assert_eq!(r.verdict, Verdict::Holds);
    // An n-bit set per cache entry would take 50 MB.
    assert!(peak < 20_000 * 400, "the heap grew by {peak} bytes");
    assert!(
        peak as u64 <= r.peak_bytes + SLACK as u64,
        "the checker counted {} bytes but the heap grew by {peak}",
        r.peak_bytes
    );
}
