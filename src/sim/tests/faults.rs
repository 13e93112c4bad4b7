//! Faults and the clock: each step kind acts as its documentation says, and does nothing when it
//! does not apply.

use super::pb::{advance, run, value, write, Msg, Pb, RETRY_MS};
use crate::sim::cluster::{Cluster, Settings};
use crate::sim::SimStep;

/// Every message takes exactly 5 ms, so tests can say when it arrives.
fn fixed() -> Settings {
    Settings::default().delay(5, 5)
}

fn replicas_in_flight(c: &Cluster<Pb>) -> Vec<(u64, u8)> {
    c.in_flight()
        .filter(|(_, _, _, m)| matches!(m, Msg::Replicate { .. }))
        .map(|(at, _, to, _)| (at, to))
        .collect()
}

#[test]
fn deliver_hands_over_the_picked_message_now_out_of_order() {
    let mut c = run(3, fixed(), &[write(0, 0, 4)]);
    assert_eq!(replicas_in_flight(&c), vec![(5, 1), (5, 2)]);
    c.apply(1, &SimStep::Deliver { pick: 1 }).unwrap();
    assert_eq!(c.now_ms(), 0);
    assert_eq!(
        (value(&c, 1), value(&c, 2)),
        (None, Some(4)),
        "n2's copy overtook n1's"
    );
    // `pick` counts modulo the messages in flight: the replica to n1 and n2's ack.
    c.apply(2, &SimStep::Deliver { pick: 2 }).unwrap();
    assert_eq!(value(&c, 1), Some(4));
}

#[test]
fn drop_loses_a_message_and_the_retry_repairs_it() {
    let mut c = run(
        2,
        fixed(),
        &[write(0, 0, 4), SimStep::Drop { pick: 0 }, advance(10)],
    );
    assert_eq!(value(&c, 1), None);
    assert_eq!(c.stats().lost, 1);
    c.apply(3, &advance(RETRY_MS as u16 + 10)).unwrap();
    assert_eq!(value(&c, 1), Some(4));
}

#[test]
fn duplicate_delivers_a_message_twice() {
    let c = run(
        2,
        fixed(),
        &[write(0, 0, 4), advance(2), SimStep::Duplicate { pick: 0 }],
    );
    // The copy draws a delay of its own from the current time.
    assert_eq!(replicas_in_flight(&c), vec![(5, 1), (7, 1)]);
    let c = run(
        2,
        fixed(),
        &[write(0, 0, 4), SimStep::Duplicate { pick: 0 }, advance(10)],
    );
    assert_eq!(c.node(1).unwrap().received, 2);
    let c = run(2, fixed(), &[write(0, 0, 4), advance(10)]);
    assert_eq!(c.node(1).unwrap().received, 1);
}

#[test]
fn delay_holds_a_message_back() {
    let c = run(
        2,
        fixed(),
        &[write(0, 0, 4), SimStep::Delay { pick: 0, ms: 100 }],
    );
    assert_eq!(replicas_in_flight(&c), vec![(105, 1)]);
    let c = run(
        2,
        fixed(),
        &[
            write(0, 0, 4),
            SimStep::Delay { pick: 0, ms: 100 },
            advance(10),
        ],
    );
    assert_eq!(value(&c, 1), None);
}

#[test]
fn a_partition_stops_replication_and_heal_restores_it() {
    let cut = SimStep::Partition {
        side: 0b001,
        one_way: false,
    };
    let mut c = run(3, fixed(), &[cut, write(0, 0, 4), advance(100)]);
    assert_eq!((value(&c, 1), value(&c, 2)), (None, None));
    c.apply(3, &SimStep::Heal).unwrap();
    c.apply(4, &advance(RETRY_MS as u16 + 10)).unwrap();
    assert_eq!((value(&c, 1), value(&c, 2)), (Some(4), Some(4)));
}

#[test]
fn a_partition_catches_messages_already_on_the_wire() {
    let cut = SimStep::Partition {
        side: 0b010,
        one_way: false,
    };
    let c = run(
        3,
        fixed(),
        &[write(0, 0, 4), cut, advance(10), SimStep::Heal, advance(10)],
    );
    assert_eq!((value(&c, 1), value(&c, 2)), (None, Some(4)));
    assert!(c
        .trace()
        .iter()
        .any(|l| l.contains("lost, the link is cut")));
}

#[test]
fn a_one_way_partition_cuts_one_direction() {
    // n1 hears the primary, but its acks are cut: the primary keeps resending to it alone.
    let cut = SimStep::Partition {
        side: 0b010,
        one_way: true,
    };
    let c = run(3, fixed(), &[cut, write(0, 0, 4), advance(100)]);
    assert_eq!((value(&c, 1), value(&c, 2)), (Some(4), Some(4)));
    assert_eq!(c.node(0).unwrap().acked, vec![0, 0, 1]);
    assert!(c.node(1).unwrap().received > 1, "resent");
    assert_eq!(c.node(2).unwrap().received, 1);
}

#[test]
fn a_crash_keeps_durable_state_only_and_restart_boots_from_it() {
    let mut c = run(3, fixed(), &[write(0, 0, 4), advance(10)]);
    assert_eq!(c.node(1).unwrap().received, 1);
    c.apply(2, &write(0, 0, 5)).unwrap();
    c.apply(3, &SimStep::Crash { node: 1 }).unwrap();
    assert!(c.node(1).is_none());
    assert!(
        replicas_in_flight(&c).iter().all(|&(_, to)| to != 1),
        "messages to n1 lost"
    );
    c.apply(4, &SimStep::Restart { node: 1 }).unwrap();
    let n1 = c.node(1).unwrap();
    assert_eq!(n1.disk.value, Some(4), "what it had on disk");
    assert_eq!(n1.received, 0, "volatile state is gone");
    // Its timers died with it; the primary's retry brings it up to date.
    c.apply(5, &advance(RETRY_MS as u16 + 10)).unwrap();
    assert_eq!(value(&c, 1), Some(5));
}

#[test]
fn steps_that_do_not_apply_are_recorded_no_ops() {
    let steps = [
        SimStep::Deliver { pick: 0 },
        SimStep::Drop { pick: 3 },
        SimStep::Duplicate { pick: 1 },
        SimStep::Delay { pick: 0, ms: 5 },
        SimStep::Heal,
        SimStep::Restart { node: 0 },
        SimStep::Crash { node: 9 },
        SimStep::ClockSkew { node: 0, ms: 0 },
        SimStep::Partition {
            side: 0b11,
            one_way: false,
        },
        SimStep::Crash { node: 1 },
        SimStep::Crash { node: 1 },
    ];
    let c = run(2, fixed(), &steps);
    let noops = c.trace().iter().filter(|l| l.contains("no-op")).count();
    assert_eq!(noops, 10, "{:#?}", c.trace());
    assert!(c.node(1).is_none());
}

#[test]
fn a_node_sees_its_skewed_clock() {
    let c = run(
        2,
        fixed(),
        &[
            advance(10),
            SimStep::ClockSkew { node: 1, ms: 300 },
            write(0, 0, 4),
            advance(10),
        ],
    );
    assert_eq!(c.node_time(1), 320);
    assert_eq!(
        c.node(1).unwrap().clock_seen,
        315,
        "the replica arrived at 15"
    );
    assert_eq!(
        c.node(0).unwrap().clock_seen,
        20,
        "unskewed: n1's ack arrived at 20"
    );
    let c = run(
        2,
        fixed(),
        &[advance(10), SimStep::ClockSkew { node: 1, ms: -50 }],
    );
    assert_eq!(c.node_time(1), 0, "a clock never reads below zero");
}

#[test]
fn timers_run_on_their_nodes_clock() {
    // The primary sets its retry timer for its 20 ms; the replica is dropped.
    let base = [write(0, 0, 4), SimStep::Drop { pick: 0 }];
    let c = run(2, fixed(), &[base[0].clone(), base[1].clone(), advance(1)]);
    assert!(
        replicas_in_flight(&c).is_empty(),
        "unskewed, the timer waits 20 ms"
    );
    // Stepping the primary's clock 100 ms ahead makes the timer's time past: it fires at once.
    let skew = SimStep::ClockSkew { node: 0, ms: 100 };
    let c = run(
        2,
        fixed(),
        &[base[0].clone(), base[1].clone(), skew, advance(1)],
    );
    assert_eq!(replicas_in_flight(&c), vec![(5, 1)]);
    // Stepped back, it fires when its own clock reaches 20: 50 ms of simulation time later.
    let skew = SimStep::ClockSkew { node: 0, ms: -30 };
    let c = run(
        2,
        fixed(),
        &[base[0].clone(), base[1].clone(), skew.clone(), advance(49)],
    );
    assert!(replicas_in_flight(&c).is_empty());
    let c = run(
        2,
        fixed(),
        &[base[0].clone(), base[1].clone(), skew, advance(50)],
    );
    assert_eq!(replicas_in_flight(&c), vec![(55, 1)]);
}

#[test]
fn a_steps_draws_do_not_depend_on_how_many_earlier_steps_drew() {
    // Step 0 draws two delays in one run and none in the other; step 1's delays are the same.
    let arrivals = |first: SimStep<crate::models::RegisterOp>| {
        let mut c: Cluster<Pb> = Cluster::new(3, 99, Settings::default().delay(1, 1_000));
        c.apply(0, &first).unwrap();
        c.apply(1, &write(0, 0, 2)).unwrap();
        let mut v: Vec<(u64, u8)> = c
            .in_flight()
            .filter(|(_, _, _, m)| matches!(m, Msg::Replicate { value: 2, .. }))
            .map(|(at, _, to, _)| (at, to))
            .collect();
        v.sort();
        v
    };
    let after_draws = arrivals(write(0, 0, 1));
    let after_none = arrivals(SimStep::Heal);
    assert_eq!(after_draws.len(), 2);
    assert_eq!(after_draws, after_none);
}
