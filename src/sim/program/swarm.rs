//! The swarm of a simulated program: which kinds of step one case may use, and how often.

use super::{
    ADVANCE, CLOCK_DRIFT, CLOCK_SKEW, CRASH, DELAY, DELIVER, DROP, DUPLICATE, HEAL, PARTITION,
    RESTART,
};

/// The swarm of a simulated program: which rules one case may use, and how often. The request
/// rules follow the engine's own swarm (all of them in half the cases, each with probability
/// 1/2 in the others, at least one); `Advance` is always in, since without time nothing times
/// out; `Deliver` is in three cases in four, at half, its own or twice its weight. The faults
/// are all out in a quarter of the cases (a bug that needs no fault is then not diluted by
/// them), all in in another quarter, and each kind in with probability 1/2 in the rest: some
/// cases only crash, some only partition. Each fault kind that is in comes at its own weight
/// times 1, 2 or 4, so some cases see a storm of one kind.
pub(super) fn fault_swarm(
    requests: usize,
    draw: &mut dyn FnMut() -> u64,
    weights: &mut [u32],
) -> u64 {
    let request_bits = if requests >= 64 {
        u64::MAX
    } else {
        (1u64 << requests) - 1
    };
    let mut mask = request_bits;
    if requests > 1 && draw() & 1 == 1 {
        loop {
            let bits = draw() & request_bits;
            if bits != 0 {
                mask = bits;
                break;
            }
        }
    }
    let at = |offset: usize| 1u64 << ((requests + offset) % 64);
    mask |= at(ADVANCE);
    let coin = draw();
    if coin & 3 != 0 {
        mask |= at(DELIVER);
        let deliver = &mut weights[requests + DELIVER];
        *deliver = match (coin >> 2) % 3 {
            0 => (*deliver / 2).max(1),
            1 => *deliver,
            _ => deliver.saturating_mul(2),
        };
    }
    let faults = [
        PARTITION,
        HEAL,
        DROP,
        DUPLICATE,
        DELAY,
        CRASH,
        RESTART,
        CLOCK_SKEW,
        CLOCK_DRIFT,
    ];
    let kinds = draw();
    let rates = draw();
    for (i, &fault) in faults.iter().enumerate() {
        let on = match kinds & 3 {
            0 => false,
            1 => true,
            _ => (kinds >> (2 + i)) & 1 == 1,
        };
        if on {
            mask |= at(fault);
            let weight = &mut weights[requests + fault];
            *weight = weight.saturating_mul(1 << ((rates >> (2 * i)) % 3));
        }
    }
    mask
}
