//! A simulated run's trace as a per-node timeline: a column per node, simulated time downward,
//! one row per event that a reader follows a bug by (requests arriving, messages sent, delivered
//! and lost, timers firing, crashes and restarts, partitions and heals, replies).
//!
//! It is drawn from the run's structured events ([`super::events`]), the source the JSON
//! report's `sim` section and the rendered page share.

use super::events::{SimEventKind, SimRun};

/// Columns wide enough for `step 12: c0 r3 Write { value: 1 }`, three to a 111-character row.
const COLUMN: usize = 34;
/// Rows shown; the rest are counted, not printed.
const MAX_ROWS: usize = 80;

/// One row: at `time`, in node `node`'s column, or across every column when `None`.
struct Row {
    time: u64,
    node: Option<u16>,
    text: String,
}

/// A simulated run's timeline: its printable lines and the events they are drawn from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timeline {
    /// Printable lines without the `stateprop:` prefix; empty for other runs.
    pub(crate) lines: Vec<String>,
    /// The run's events; `None` for other runs.
    pub(crate) run: Option<SimRun>,
}

/// The timeline of a simulated run's trace lines (`<time>ms <event>`, steps named by position).
/// Empty when `trace` is not a simulated run's trace (a sequential or threaded run's lines have
/// no times).
pub(crate) fn build(trace: &[String]) -> Timeline {
    let Some(run) = super::events::read(trace) else {
        return Timeline::default();
    };
    Timeline {
        lines: lines(&rows_of(&run), run.nodes),
        run: Some(run),
    }
}

/// The rows as printable lines, a column per node.
fn lines(rows: &[Row], nodes: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut header = format!("{:>8} ", "ms");
    for n in 0..nodes {
        header.push_str(&pad(&format!("n{n}")));
    }
    out.push(header.trim_end().to_string());
    let mut last_time = None;
    for row in rows.iter().take(MAX_ROWS) {
        // A time is printed once, on the first row at it, so a burst reads as one moment.
        let time = if last_time == Some(row.time) {
            String::new()
        } else {
            row.time.to_string()
        };
        last_time = Some(row.time);
        let mut line = format!("{time:>8} ");
        match row.node {
            Some(n) => {
                for _ in 0..n {
                    line.push_str(&pad("|"));
                }
                line.push_str(&pad(&fit(&row.text, COLUMN - 1)));
                for _ in n + 1..nodes {
                    line.push_str(&pad("|"));
                }
            }
            None => {
                let width = COLUMN * usize::from(nodes) - 1;
                line.push_str(&fit(&format!("== {} ==", row.text), width));
            }
        }
        out.push(line.trim_end().to_string());
    }
    if rows.len() > MAX_ROWS {
        out.push(format!(
            "{:>8} ... {} more events left out",
            "",
            rows.len() - MAX_ROWS
        ));
    }
    out
}

fn pad(cell: &str) -> String {
    format!("{cell:<COLUMN$}")
}

/// `text` cut to `width` characters: a long `Debug` value keeps its start and ends in `..`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(2)).collect();
    cut.push_str("..");
    cut
}

/// What the trace of one run says, and how many nodes it has; `None` when it is not a
/// simulated run's trace.
#[cfg(test)]
fn rows(trace: &[String]) -> Option<(Vec<Row>, u16)> {
    let run = super::events::read(trace)?;
    Some((rows_of(&run), run.nodes))
}

/// The rows of a run's events: each at its node's column, or across every column.
fn rows_of(run: &SimRun) -> Vec<Row> {
    run.events
        .iter()
        .filter(|e| match e.kind {
            // Steps show through what they did; a partition or heal that did nothing still
            // shows, as a step that changed no link.
            SimEventKind::Step => e.text.split_once(": ").is_some_and(|(_, what)| {
                what.contains(" (no-op: ")
                    && (what.starts_with("Partition") || what.starts_with("Heal"))
            }),
            _ => true,
        })
        .map(|e| Row {
            time: e.time,
            node: e.node,
            text: e.text.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{build, rows, MAX_ROWS};
    use crate::models::{RegisterOp, RegisterOut};
    use crate::sim::__engine::{Cluster, Settings};
    use crate::sim::{Context, Node, NodeId, RequestId, SimStep, TimerId};

    /// Sends every write to its peers and answers once a peer acknowledges; retries on a timer.
    struct Relay {
        value: Option<i64>,
        waiting: Vec<RequestId>,
    }

    impl Node for Relay {
        type Message = Option<i64>;
        type Request = RegisterOp;
        type Response = RegisterOut;
        type Durable = ();

        fn start(_: &mut Context<'_, Self>, _: ()) -> Self {
            Relay {
                value: None,
                waiting: Vec::new(),
            }
        }

        fn on_request(&mut self, ctx: &mut Context<'_, Self>, request: RequestId, op: RegisterOp) {
            match op {
                RegisterOp::Write { value } => {
                    self.value = Some(value);
                    for peer in ctx.peers() {
                        ctx.send(peer, Some(value));
                    }
                    self.waiting.push(request);
                    ctx.set_timer(30);
                }
                RegisterOp::Read => ctx.reply(request, RegisterOut::Value(self.value)),
                RegisterOp::Cas { .. } => ctx.reject(request),
            }
        }

        fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, value: Option<i64>) {
            match value {
                Some(v) => {
                    self.value = Some(v);
                    ctx.send(from, None);
                }
                None => {
                    for request in self.waiting.drain(..) {
                        ctx.reply(request, RegisterOut::Written);
                    }
                }
            }
        }

        fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: TimerId) {
            if !self.waiting.is_empty() {
                for peer in ctx.peers() {
                    ctx.send(peer, self.value);
                }
            }
        }

        fn durable(&self) {}
    }

    fn request(client: u8, node: NodeId, op: RegisterOp) -> SimStep<RegisterOp> {
        SimStep::Request { client, node, op }
    }

    /// A run with every kind of fault: its trace lines, steps named by position.
    fn faulty_trace() -> Vec<String> {
        let steps = [
            request(0, 0, RegisterOp::Write { value: 1 }),
            SimStep::Duplicate { pick: 0 },
            SimStep::Delay { pick: 1, ms: 40 },
            SimStep::Drop { pick: 0 },
            SimStep::Partition {
                side: 1,
                one_way: false,
            },
            SimStep::Advance { ms: 100 },
            SimStep::Heal,
            SimStep::Crash { node: 1 },
            request(1, 1, RegisterOp::Read),
            request(1, 2, RegisterOp::Write { value: 2 }),
            SimStep::Crash { node: 2 },
            SimStep::Restart { node: 1 },
            request(0, 1, RegisterOp::Cas { from: 1, to: 2 }),
            SimStep::Advance { ms: 50 },
        ];
        let mut cluster = Cluster::<Relay>::new(3, 5, Settings::default().keep_trace(true));
        for (i, step) in steps.iter().enumerate() {
            cluster.apply(i as u64, step).expect("no invariant");
        }
        let _ = cluster.settle(99, 10_000).expect("no invariant");
        cluster
            .trace()
            .iter()
            .map(|l| l.replace("ms step 99:", "ms after the program:"))
            .collect()
    }

    #[test]
    fn every_line_of_a_faulty_run_lands_in_a_column_or_a_marked_row() {
        let trace = faulty_trace();
        let (rows, nodes) = rows(&trace).expect("a simulated trace");
        assert_eq!(nodes, 3);
        // An unknown line would show whole across the columns: none is left unread.
        for row in rows.iter().filter(|r| r.node.is_none()) {
            assert!(
                ["step ", "after the program", "healed", "invariant"]
                    .iter()
                    .any(|p| row.text.starts_with(p)),
                "unread: {}\n{}",
                row.text,
                trace.join("\n")
            );
        }
        let texts: Vec<String> = rows.iter().map(|r| r.text.clone()).collect();
        let has = |s: &str| texts.iter().any(|t| t.contains(s));
        for kind in [
            "duplicated -> n",
            "delayed -> n",
            "dropped -> n",
            "step 4: Partition",
            "step 6: Heal",
            "CRASH",
            "RESTART",
            "step 8: c1 Read refused",
            "step 12: c0 r2 Cas",
            "CRASH (step 7)",
            "r1 unknown: its node crashed",
            "rejects r",
            "timer t",
            "<- n0 Some(1)",
        ] {
            assert!(has(kind), "no `{kind}` in {texts:#?}\n{}", trace.join("\n"));
        }
    }

    #[test]
    fn every_message_of_a_faulty_run_has_one_end_naming_its_start() {
        use crate::report::events::read;
        use crate::report::SimEventKind as K;
        let trace = faulty_trace();
        let run = read(&trace).expect("a simulated trace");
        assert_eq!(run.nodes, 3);
        // Where each message (by number) was put on the wire: (event, sender, receiver).
        let mut started = std::collections::BTreeMap::new();
        let mut ended = std::collections::BTreeMap::new();
        for (i, e) in run.events.iter().enumerate() {
            let ends = match e.kind {
                K::Send | K::Duplicate | K::Delay => {
                    let m = e.message.expect("a number");
                    assert!(
                        started.insert(m, (i, e.node, e.peer)).is_none(),
                        "#{m} twice"
                    );
                    // A delay ends the message it moves.
                    e.original.filter(|_| e.kind == K::Delay)
                }
                K::Deliver | K::Drop => e.message,
                K::Lost => e.message,
                _ => None,
            };
            let Some(m) = ends else { continue };
            let &(at, from, to) = started
                .get(&m)
                .unwrap_or_else(|| panic!("#{m} ends unsent"));
            assert!(at < i);
            let (node, peer) = match e.kind {
                K::Deliver | K::Lost => (to, from),
                _ => (from, to),
            };
            assert_eq!((e.node, e.peer), (node, peer), "event {i}: {e:?}");
            assert!(ended.insert(m, i).is_none(), "#{m} ends twice");
        }
        // The liveness tail runs until nothing is in flight: every message ended.
        let open: Vec<_> = started.keys().filter(|m| !ended.contains_key(m)).collect();
        assert!(open.is_empty(), "{open:?}\n{}", trace.join("\n"));
        for kind in [
            K::Step,
            K::Request,
            K::Refused,
            K::Send,
            K::Deliver,
            K::Drop,
            K::Duplicate,
            K::Delay,
            K::Lost,
            K::Timer,
            K::Crash,
            K::Restart,
            K::Partition,
            K::Heal,
            K::Reject,
            K::Unknown,
            K::Tail,
        ] {
            assert!(
                run.events.iter().any(|e| e.kind == kind),
                "no {kind:?}\n{}",
                trace.join("\n")
            );
        }
        // Events name the program step they happened in.
        let crash = run.events.iter().find(|e| e.kind == K::Crash).unwrap();
        assert_eq!(crash.step, Some(7));
        assert!(run.events.iter().all(|e| e.kind != K::Other));
    }

    #[test]
    fn messages_on_their_way_to_a_crashing_node_are_lost_one_by_one() {
        use crate::report::SimEventKind as K;
        let trace = [
            "     0ms n0 starts from ()",
            "     0ms n1 starts from ()",
            "     0ms step 0: Request { client: 0, node: 0, op: Read }",
            "     0ms n0 -> n1 #0 Some(1), arrives at 9ms",
            "     0ms n0 -> n1 #1 Some(2), arrives at 7ms",
            "     0ms n1 -> n0 #2 None, arrives at 7ms",
            "     0ms step 1: Crash { node: 1 }",
            "     0ms n1 crashes, keeping (); 2 messages to it lost",
        ]
        .map(String::from);
        let run = crate::report::events::read(&trace).unwrap();
        let lost: Vec<_> = run.events.iter().filter(|e| e.kind == K::Lost).collect();
        assert_eq!(lost.len(), 2, "{:#?}", run.events);
        for (e, m) in lost.iter().zip([0, 1]) {
            assert_eq!(
                (e.message, e.node, e.peer, e.step),
                (Some(m), Some(1), Some(0), Some(1))
            );
        }
        let lines = build(&trace).lines;
        assert!(
            lines
                .iter()
                .any(|l| l.contains("lost <- n0 Some(2) (crashed)")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_partition_that_cuts_nothing_is_no_band_but_still_shows() {
        use crate::report::SimEventKind as K;
        let trace = [
            "     0ms n0 starts from ()",
            "     0ms n1 starts from ()",
            "     0ms step 0: Heal",
            "     0ms   no-op: no link is cut",
            "     0ms step 1: Partition { side: 1, one_way: false }",
            "     0ms step 2: Partition { side: 1, one_way: false }",
            "     0ms   no-op: no link newly cut",
        ]
        .map(String::from);
        let run = crate::report::events::read(&trace).unwrap();
        let kinds: Vec<_> = run.events.iter().map(|e| (e.kind, e.step)).collect();
        assert_eq!(
            kinds,
            [
                (K::Step, Some(0)),
                (K::Step, Some(1)),
                (K::Partition, Some(1)),
                (K::Step, Some(2))
            ]
        );
        assert!(run.events[0].text.ends_with("Heal (no-op: no link is cut)"));
        let lines = build(&trace).lines;
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[1].contains("== step 0: Heal (no-op: no link is cut) =="));
        assert!(lines[2].contains("== step 1: Partition { side: 1, one_way: false } =="));
        // Cut to the two columns' width; the event has it whole.
        assert!(lines[3].contains("== step 2: Partition { side: 1, one_way: false } (no-op"));
        assert!(run.events[3].text.ends_with("(no-op: no link newly cut)"));
    }

    #[test]
    fn a_long_run_is_cut_and_says_how_much_was_left_out() {
        let mut trace =
            vec!["     0ms step 0: Request { client: 0, node: 0, op: Read }".to_string()];
        for i in 0..MAX_ROWS + 7 {
            trace.push(format!(
                "{i:>6}ms n0 -> n1 #{i} Some(1), arrives at {}ms",
                i + 5
            ));
        }
        let lines = build(&trace).lines;
        // The header, the rows kept, and the note.
        assert_eq!(lines.len(), MAX_ROWS + 2);
        assert!(
            lines
                .last()
                .unwrap()
                .ends_with("... 7 more events left out"),
            "{lines:?}"
        );
    }

    #[test]
    fn long_debug_text_is_cut_to_its_column() {
        let trace = [format!(
            "     3ms n2 -> n0 #4 {:?}, arrives at 9ms",
            vec![7u64; 40]
        )];
        let lines = build(&trace).lines;
        assert_eq!(lines.len(), 2, "{lines:?}");
        let row = &lines[1];
        assert!(row.ends_with(".."), "{row}");
        // Time, two empty columns, and the cell cut to fit.
        assert_eq!(
            row.chars().count(),
            9 + 2 * super::COLUMN + super::COLUMN - 1
        );
    }

    #[test]
    fn a_node_with_nothing_to_show_still_has_its_column() {
        let trace = [
            "     0ms n0 starts from ()",
            "     0ms n1 starts from ()",
            "     0ms n2 starts from ()",
            "     0ms step 0: Request { client: 0, node: 0, op: Read }",
            "     0ms client 0 -> n0 r0: Read",
            "     0ms n0 answers r0 (client 0): Value(None)",
        ]
        .map(String::from);
        let lines = build(&trace).lines;
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["ms", "n0", "n1", "n2"]
        );
        assert_eq!(
            lines[1].trim_end(),
            format!("{:>8} {:<34}|{:33}|", 0, "step 0: c0 r0 Read", "")
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
    }

    #[test]
    fn lines_without_times_are_no_timeline() {
        let trace = ["step 0: Put { key: 1 } -> system Ok, model Ok".to_string()];
        assert!(build(&trace).lines.is_empty());
    }
}
