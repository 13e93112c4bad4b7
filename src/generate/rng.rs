//! Seeds. Every random choice of a run flows from the run seed through these functions.

use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};

pub(crate) use crate::hash::mix;

/// The seed of case `index` of a run: each case is reproducible on its own. Below 2^53, like
/// run seeds, so JSON readers that parse numbers as doubles keep it exact.
pub(crate) fn case_seed(run_seed: u64, index: u64) -> u64 {
    mix(run_seed ^ mix(index.wrapping_add(1))) >> 11
}

/// A fresh seed when the user gave none: the clock, mixed with a process-wide counter.
pub(crate) fn fresh_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // Keep seeds below 2^53 so they survive JSON readers that parse numbers as doubles.
    mix(nanos ^ mix(COUNTER.fetch_add(1, Ordering::Relaxed))) >> 11
}

/// A proptest runner whose strategies draw from `seed` alone.
///
/// XorShift rather than ChaCha: a runner is made per case, and XorShift's is several times
/// cheaper to set up; test inputs need variety, not cryptographic strength.
pub(crate) fn proptest_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::XorShift, &bytes),
    )
}

/// A proptest runner that reads its "random" bytes from `data` (a fuzzer's input).
pub(crate) fn passthrough_runner(data: &[u8]) -> TestRunner {
    TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::PassThrough, data),
    )
}

/// A number below `n` from 64 random bits, by multiply-and-shift (Lemire): no division on the
/// hot path, and a bias of at most n / 2^64, far below anything a test could notice.
#[inline]
pub(crate) fn below(bits: u64, n: u64) -> u64 {
    ((u128::from(bits) * u128::from(n)) >> 64) as u64
}

/// proptest's runner for one case, made on first use: a case whose strategies all draw fast
/// ([`Draw`](crate::Draw)) never pays for one.
pub(crate) struct CaseRunner {
    seed: u64,
    runner: Option<TestRunner>,
}

impl CaseRunner {
    pub(crate) fn lazy(seed: u64) -> Self {
        CaseRunner { seed, runner: None }
    }

    pub(crate) fn ready(runner: TestRunner) -> Self {
        CaseRunner {
            seed: 0,
            runner: Some(runner),
        }
    }

    #[inline]
    pub(crate) fn get(&mut self) -> &mut TestRunner {
        let seed = self.seed;
        self.runner.get_or_insert_with(|| proptest_runner(seed))
    }
}

impl crate::spec::RunnerSource for CaseRunner {
    #[inline]
    fn runner(&mut self) -> &mut TestRunner {
        self.get()
    }
}
