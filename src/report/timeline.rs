//! A simulated run's trace as a per-node timeline: a column per node, simulated time downward,
//! one row per event that a reader follows a bug by (requests arriving, messages sent, delivered
//! and lost, timers firing, crashes and restarts, partitions and heals, replies).
//!
//! It is built from the trace's text lines rather than from events kept beside them: the lines
//! are what the trace hash covers, so the timeline shows exactly the run the hash names, and
//! keeping it costs the hot path nothing (only a report's rerun keeps lines at all).

use std::collections::BTreeMap;

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

/// The timeline of a simulated run's trace lines (`<time>ms <event>`, steps named by position),
/// as printable lines without the `stateprop:` prefix. Empty when `trace` is not a simulated
/// run's trace (a sequential or threaded run's lines have no times).
pub(crate) fn build(trace: &[String]) -> Vec<String> {
    let Some((rows, nodes)) = rows(trace) else {
        return Vec::new();
    };
    if nodes == 0 {
        return Vec::new();
    }
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
fn rows(trace: &[String]) -> Option<(Vec<Row>, u16)> {
    let mut reader = Reader::default();
    let mut rows = Vec::new();
    for line in trace {
        let (time, event) = line.trim_start().split_once("ms ")?;
        let time: u64 = time.parse().ok()?;
        let mut found = Vec::new();
        if reader.read(event, &mut found).is_none() {
            // A line this reader does not know still shows, whole, rather than being lost.
            found = vec![(None, event.trim().to_string())];
        }
        rows.extend(
            found
                .into_iter()
                .map(|(node, text)| Row { time, node, text }),
        );
    }
    // Every node boots before the first step, so its boot line names it even if it does
    // nothing else.
    let nodes = rows
        .iter()
        .filter_map(|r| r.node)
        .chain(reader.booted)
        .max()
        .map_or(0, |n| n + 1);
    Some((rows, nodes))
}

/// What earlier lines said that later ones only refer to.
#[derive(Default)]
struct Reader {
    /// Messages by their number in flight: a delivery line names only the number.
    messages: BTreeMap<u64, (u16, u16, String)>,
    /// Requests by number: the node each went to (a timeout line names only the request).
    requests: BTreeMap<String, u16>,
    /// The step running, as the report numbers it.
    step: String,
    /// Whether the first step began (nodes boot before it).
    started: bool,
    /// The highest node that booted.
    booted: Option<u16>,
    /// Per client, the steps whose requests wait to be sent: a session sends one request at a
    /// time, so a queued one goes out later, under another step's line.
    waiting: BTreeMap<String, std::collections::VecDeque<String>>,
}

impl Reader {
    /// Reads one event into `out` (rows as node column, text); `None` for a line it does not
    /// know.
    fn read(&mut self, event: &str, out: &mut Vec<(Option<u16>, String)>) -> Option<()> {
        let Reader {
            messages,
            requests,
            step,
            started,
            booted,
            waiting,
        } = self;
        let mut push = |node: Option<u16>, text: String| out.push((node, text));
        if let Some(rest) = event.strip_prefix("step ") {
            *started = true;
            let (name, what) = rest.split_once(": ")?;
            *step = format!("step {name}");
            if let Some(rest) = what.strip_prefix("Request { client: ") {
                let (client, _) = rest.split_once(',')?;
                let queue = waiting.entry(client.to_string()).or_default();
                queue.push_back(step.clone());
            }
            if what.starts_with("Partition") || what.starts_with("Heal") {
                push(None, format!("{step}: {what}"));
            }
            return Some(());
        }
        if let Some(what) = event.strip_prefix("after the program: ") {
            *started = true;
            *step = "tail".to_string();
            push(None, format!("after the program: {what}"));
            return Some(());
        }
        if let Some(rest) = event.strip_prefix("client ") {
            // `client C -> nX rK: Op` or `client C -> nX Op: refused, ...`
            let (client, rest) = rest.split_once(" -> n")?;
            let (node, rest) = split_node(rest)?;
            let from = waiting
                .get_mut(client)
                .and_then(|queue| queue.pop_front())
                .unwrap_or_else(|| step.clone());
            if let Some(refused) = rest.strip_suffix(&format!(": refused, n{node} is not up")) {
                push(
                    Some(node),
                    format!("{from}: c{client} {} refused", refused.trim()),
                );
            } else {
                let (request, op) = rest.trim_start().split_once(": ")?;
                requests.insert(request.to_string(), node);
                push(Some(node), format!("{from}: c{client} {request} {op}"));
            }
            return Some(());
        }
        if let Some(rest) = event.strip_prefix("  ") {
            if let Some(what) = rest.strip_prefix("cluster invariant broken: ") {
                push(None, format!("invariant broken: {what}"));
            } else if rest == "healed" {
                push(None, "healed".to_string());
            } else if let Some(rest) = rest.strip_prefix('#') {
                // `#S dropped`, `#S duplicated as #T, arrives at Xms`, `#S delayed as #T, ...`
                let (slot, what) = rest.split_once(' ')?;
                let (from, to, message) = messages.get(&slot.parse().ok()?)?.clone();
                if what == "dropped" {
                    push(Some(from), format!("dropped -> n{to} {message}"));
                } else {
                    let (verb, rest) = what.split_once(" as #")?;
                    let (copy, at) = rest.split_once(", arrives at ")?;
                    messages.insert(copy.parse().ok()?, (from, to, message.clone()));
                    push(Some(from), format!("{verb} -> n{to} {message} (at {at})"));
                }
            } else if let Some(rest) = rest.strip_prefix('r') {
                // `rK: outcome unknown, timed out` (or `, its node crashed`)
                let (request, why) = rest.split_once(": outcome unknown, ")?;
                let request = format!("r{request}");
                let node = *requests.get(&request)?;
                push(Some(node), format!("{request} unknown: {why}"));
            }
            // Queued requests and no-op steps change nothing a column shows.
            return Some(());
        }
        let rest = event.strip_prefix('n')?;
        let (node, rest) = split_node(rest)?;
        if let Some(rest) = rest.strip_prefix(" -> n") {
            let (to, rest) = split_node(rest)?;
            if let Some(rest) = rest.strip_prefix(" #") {
                let (slot, rest) = split_number(rest)?;
                if let Some(why) = rest.strip_prefix(": lost, ") {
                    // Lost at arrival: the receiver's column, where it would have landed.
                    let (_, _, message) = messages.get(&slot)?;
                    let why = match why {
                        "the link is cut" => "cut",
                        "its node is down" => "down",
                        other => other,
                    };
                    push(Some(to), format!("lost <- n{node} {message} ({why})"));
                } else {
                    let (message, _) = rest.strip_prefix(' ')?.rsplit_once(", arrives at ")?;
                    messages.insert(slot, (node, to, message.to_string()));
                    push(Some(node), format!("-> n{to} {message}"));
                }
            } else {
                let (message, why) = rest.strip_prefix(' ')?.rsplit_once(": lost, ")?;
                push(Some(node), format!("-> n{to} {message} (lost: {why})"));
            }
        } else if let Some(rest) = rest.strip_prefix(" <- n") {
            let (from, rest) = split_node(rest)?;
            let slot: u64 = rest.strip_prefix(" #")?.parse().ok()?;
            let (_, _, message) = messages.get(&slot)?;
            push(Some(node), format!("<- n{from} {message}"));
        } else if let Some(rest) = rest.strip_prefix(" answers ") {
            match rest.split_once(" (client ") {
                Some((request, rest)) => {
                    let (client, answer) = rest.split_once("): ")?;
                    push(Some(node), format!("=> c{client} {request} {answer}"));
                }
                None => push(Some(node), format!("answers {rest}")),
            }
        } else if let Some(request) = rest.strip_prefix(" rejects ") {
            push(Some(node), format!("rejects {request}"));
        } else if rest.starts_with(" crashes") {
            push(Some(node), format!("CRASH ({step})"));
        } else if rest.starts_with(" starts from ") {
            *booted = (*booted).max(Some(node));
            // Every node boots before the first step; only a restart is news.
            if *started {
                push(Some(node), format!("RESTART ({step})"));
            }
        } else if let Some(rest) = rest.strip_prefix(" t") {
            if let Some((timer, _)) = rest.split_once(" fires") {
                push(Some(node), format!("timer t{timer} fires"));
            }
            // Setting and cancelling timers is bookkeeping; only firing moves the run.
        } else if rest.strip_prefix(" sets t").is_none()
            && rest.strip_prefix(" cancels t").is_none()
        {
            return None;
        }
        Some(())
    }
}

/// A node number at the start of `text`, and what follows it.
fn split_node(text: &str) -> Option<(u16, &str)> {
    let (n, rest) = split_number(text)?;
    Some((u16::try_from(n).ok()?, rest))
}

/// A number at the start of `text`, and what follows it.
fn split_number(text: &str) -> Option<(u64, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
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
    fn a_long_run_is_cut_and_says_how_much_was_left_out() {
        let mut trace =
            vec!["     0ms step 0: Request { client: 0, node: 0, op: Read }".to_string()];
        for i in 0..MAX_ROWS + 7 {
            trace.push(format!(
                "{i:>6}ms n0 -> n1 #{i} Some(1), arrives at {}ms",
                i + 5
            ));
        }
        let lines = build(&trace);
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
        let lines = build(&trace);
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
        let lines = build(&trace);
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
        assert!(build(&trace).is_empty());
    }
}
