//! A simulated run's trace read into structured events: the one source of both the text
//! timeline ([`super::timeline`]) and the `sim` section of the JSON report, which
//! `stateprop render` draws as a page with a lane per node.
//!
//! The events are read from the trace's text lines rather than recorded beside them: the lines
//! are what the trace hash covers, so the events show exactly the run the hash names, and
//! recording costs the hot path nothing (only a report's rerun keeps lines at all).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What happened at one event of a simulated run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SimEventKind {
    /// A step of the program began (cluster-wide: no node).
    Step,
    /// A client's request reached its node.
    Request,
    /// A client's request was refused: its node was down.
    Refused,
    /// A node sent a message (`peer` receives it).
    Send,
    /// A message reached its node (`peer` sent it).
    Deliver,
    /// A `Drop` step took a message off the wire.
    Drop,
    /// A `Duplicate` step put a copy of a message on the wire (`message` is the copy).
    Duplicate,
    /// A `Delay` step moved a message later (`message` is its new number).
    Delay,
    /// A message was lost: its link was cut or its node down when it arrived, its node was
    /// down when it was sent, or its node crashed while it was on the wire.
    Lost,
    /// A node's timer fired.
    Timer,
    /// A node crashed.
    Crash,
    /// A crashed node started again.
    Restart,
    /// A partition cut links (cluster-wide).
    Partition,
    /// Every cut link was restored (cluster-wide).
    Heal,
    /// A node answered a client's request.
    Reply,
    /// A node rejected a client's request.
    Reject,
    /// A request's outcome became unknown: it timed out, or its node crashed.
    Unknown,
    /// The liveness tail after the program, or a read after it (cluster-wide).
    Tail,
    /// The cluster invariant broke (cluster-wide).
    Invariant,
    /// A trace line this reader does not know, kept whole (cluster-wide).
    Other,
}

impl SimEventKind {
    /// The kind's name in the JSON report: `step`, `request`, `send`, `deliver`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SimEventKind::Step => "step",
            SimEventKind::Request => "request",
            SimEventKind::Refused => "refused",
            SimEventKind::Send => "send",
            SimEventKind::Deliver => "deliver",
            SimEventKind::Drop => "drop",
            SimEventKind::Duplicate => "duplicate",
            SimEventKind::Delay => "delay",
            SimEventKind::Lost => "lost",
            SimEventKind::Timer => "timer",
            SimEventKind::Crash => "crash",
            SimEventKind::Restart => "restart",
            SimEventKind::Partition => "partition",
            SimEventKind::Heal => "heal",
            SimEventKind::Reply => "reply",
            SimEventKind::Reject => "reject",
            SimEventKind::Unknown => "unknown",
            SimEventKind::Tail => "tail",
            SimEventKind::Invariant => "invariant",
            SimEventKind::Other => "other",
        }
    }
}

/// One event of a simulated run, in trace order (which is simulated time order).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimEvent {
    /// Simulated time, in milliseconds.
    pub time: u64,
    /// What happened.
    pub kind: SimEventKind,
    /// The node it happened at (a message's sender for a send, drop, duplicate or delay; its
    /// receiver for a delivery or a loss); `None` for a cluster-wide event.
    pub node: Option<u16>,
    /// A message's other end: its receiver for a send, drop, duplicate or delay, its sender
    /// for a delivery or a loss.
    pub peer: Option<u16>,
    /// The message's number on the wire, which links a send to its delivery or loss; for a
    /// duplicate or a delay, the number of the copy or of the moved message.
    pub message: Option<u64>,
    /// For a duplicate or a delay: the number of the message it was made from.
    pub original: Option<u64>,
    /// For a send, duplicate or delay: when the message is due to arrive.
    pub arrives: Option<u64>,
    /// The client of a request, reply, rejection or unknown outcome.
    pub client: Option<u64>,
    /// The request's number (`r3` is 3).
    pub request: Option<u64>,
    /// The program step it happened in (its position in the program); `None` before the
    /// first step and in the liveness tail.
    pub step: Option<usize>,
    /// The event as the timeline prints it (`-> n1 Replicate { .. }`, `step 2: Heal`).
    pub text: String,
}

/// The structured events of one simulated run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimRun {
    /// Nodes in the cluster (every node boots before the first step, so each is named).
    pub nodes: u16,
    /// Every event, in trace order.
    pub events: Vec<SimEvent>,
}

/// The events of a simulated run's trace lines (`<time>ms <event>`, steps named by position);
/// `None` when `trace` is not a simulated run's trace (a sequential or threaded run's lines
/// have no times) or names no node.
pub(crate) fn read(trace: &[String]) -> Option<SimRun> {
    let mut reader = Reader::default();
    let mut events = Vec::new();
    for line in trace {
        let (time, event) = line.trim_start().split_once("ms ")?;
        let time: u64 = time.parse().ok()?;
        let start = events.len();
        if reader.read(time, event, &mut events).is_none() {
            // A line this reader does not know still shows, whole, rather than being lost.
            events.truncate(start);
            events.push(reader.event(time, SimEventKind::Other, None, event.trim()));
        }
    }
    // Every node boots before the first step, so its boot line names it even if it does
    // nothing else.
    let nodes = events
        .iter()
        .flat_map(|e| [e.node, e.peer])
        .flatten()
        .chain(reader.booted)
        .max()
        .map_or(0, |n| n + 1);
    (nodes > 0).then_some(SimRun { nodes, events })
}

/// What earlier lines said that later ones only refer to.
#[derive(Default)]
struct Reader {
    /// Messages by their number on the wire: a delivery line names only the number.
    messages: BTreeMap<u64, (u16, u16, String)>,
    /// The numbers of messages still on the wire, to tell which a crash lost.
    in_flight: BTreeSet<u64>,
    /// Requests by number: the node and client of each (a timeout line names only the request).
    requests: BTreeMap<String, (u16, u64)>,
    /// The step running, as the report numbers it (`step 3`, `tail`).
    step: String,
    /// Its position in the program, when it is a program step.
    position: Option<usize>,
    /// Whether the first step began (nodes boot before it).
    started: bool,
    /// The highest node that booted.
    booted: Option<u16>,
    /// Per client, the steps whose requests wait to be sent: a session sends one request at a
    /// time, so a queued one goes out later, under another step's line.
    waiting: BTreeMap<String, VecDeque<(String, Option<usize>)>>,
}

impl Reader {
    /// An event at `time` in the step running, with no message or request.
    fn event(&self, time: u64, kind: SimEventKind, node: Option<u16>, text: &str) -> SimEvent {
        SimEvent {
            time,
            kind,
            node,
            peer: None,
            message: None,
            original: None,
            arrives: None,
            client: None,
            request: None,
            step: self.position,
            text: text.to_string(),
        }
    }

    /// Reads one event into `out`; `None` for a line it does not know.
    fn read(&mut self, time: u64, event: &str, out: &mut Vec<SimEvent>) -> Option<()> {
        use SimEventKind as K;
        if let Some(rest) = event.strip_prefix("step ") {
            self.started = true;
            let (name, what) = rest.split_once(": ")?;
            self.step = format!("step {name}");
            self.position = name.parse().ok();
            if let Some(rest) = what.strip_prefix("Request { client: ") {
                let (client, _) = rest.split_once(',')?;
                let queue = self.waiting.entry(client.to_string()).or_default();
                queue.push_back((self.step.clone(), self.position));
            }
            let text = format!("{}: {what}", self.step);
            out.push(self.event(time, K::Step, None, &text));
            if what.starts_with("Partition") {
                out.push(self.event(time, K::Partition, None, &text));
            } else if what.starts_with("Heal") {
                out.push(self.event(time, K::Heal, None, &text));
            }
            return Some(());
        }
        for tail in ["after the program: ", "read "] {
            let Some(what) = event.strip_prefix(tail) else {
                continue;
            };
            if tail == "read " && !what.contains(" after the tail: ") {
                break;
            }
            self.started = true;
            self.step = "tail".to_string();
            self.position = None;
            let text = match tail {
                "read " => event.trim().to_string(),
                _ => format!("after the program: {what}"),
            };
            out.push(self.event(time, K::Tail, None, &text));
            return Some(());
        }
        if let Some(rest) = event.strip_prefix("client ") {
            return self.client(time, rest, out);
        }
        if let Some(rest) = event.strip_prefix("  ") {
            return self.aside(time, rest, out);
        }
        let rest = event.strip_prefix('n')?;
        let (node, rest) = split_node(rest)?;
        if let Some(rest) = rest.strip_prefix(" -> n") {
            return self.sent(time, node, rest, out);
        }
        if let Some(rest) = rest.strip_prefix(" <- n") {
            let (from, rest) = split_node(rest)?;
            let slot: u64 = rest.strip_prefix(" #")?.parse().ok()?;
            let (_, _, message) = self.messages.get(&slot)?;
            let text = format!("<- n{from} {message}");
            self.in_flight.remove(&slot);
            out.push(SimEvent {
                peer: Some(from),
                message: Some(slot),
                ..self.event(time, K::Deliver, Some(node), &text)
            });
        } else if let Some(rest) = rest.strip_prefix(" answers ") {
            match rest.split_once(" (client ") {
                Some((request, rest)) => {
                    let (client, answer) = rest.split_once("): ")?;
                    let text = format!("=> c{client} {request} {answer}");
                    out.push(SimEvent {
                        client: client.parse().ok(),
                        request: request.strip_prefix('r').and_then(|r| r.parse().ok()),
                        ..self.event(time, K::Reply, Some(node), &text)
                    });
                }
                None => {
                    let text = format!("answers {rest}");
                    out.push(self.event(time, K::Reply, Some(node), &text));
                }
            }
        } else if let Some(request) = rest.strip_prefix(" rejects ") {
            let client = self.requests.get(request).map(|&(_, c)| c);
            let text = format!("rejects {request}");
            out.push(SimEvent {
                client,
                request: request.strip_prefix('r').and_then(|r| r.parse().ok()),
                ..self.event(time, K::Reject, Some(node), &text)
            });
        } else if rest.starts_with(" crashes") {
            let text = format!("CRASH ({})", self.step);
            out.push(self.event(time, K::Crash, Some(node), &text));
            // The network loses every message on its way to a crashed node in one line, by
            // count; each is named here so that no send is left without an end.
            let lost: Vec<u64> = self
                .in_flight
                .iter()
                .copied()
                .filter(|slot| self.messages.get(slot).is_some_and(|m| m.1 == node))
                .collect();
            for slot in lost {
                self.in_flight.remove(&slot);
                let (from, _, message) = &self.messages[&slot];
                let text = format!("lost <- n{from} {message} (crashed)");
                out.push(SimEvent {
                    peer: Some(*from),
                    message: Some(slot),
                    ..self.event(time, K::Lost, Some(node), &text)
                });
            }
        } else if rest.starts_with(" starts from ") {
            self.booted = self.booted.max(Some(node));
            // Every node boots before the first step; only a restart is news.
            if self.started {
                let text = format!("RESTART ({})", self.step);
                out.push(self.event(time, K::Restart, Some(node), &text));
            }
        } else if let Some(rest) = rest.strip_prefix(" t") {
            if let Some((timer, _)) = rest.split_once(" fires") {
                let text = format!("timer t{timer} fires");
                out.push(self.event(time, K::Timer, Some(node), &text));
            }
            // Setting and cancelling timers is bookkeeping; only firing moves the run.
        } else if rest.strip_prefix(" sets t").is_none()
            && rest.strip_prefix(" cancels t").is_none()
        {
            return None;
        }
        Some(())
    }

    /// `client C -> nX rK: Op` or `client C -> nX Op: refused, ...`
    fn client(&mut self, time: u64, rest: &str, out: &mut Vec<SimEvent>) -> Option<()> {
        let (client, rest) = rest.split_once(" -> n")?;
        let (node, rest) = split_node(rest)?;
        let (from, position) = self
            .waiting
            .get_mut(client)
            .and_then(|queue| queue.pop_front())
            .unwrap_or_else(|| (self.step.clone(), self.position));
        let client_number = client.parse().ok();
        let base = SimEvent {
            client: client_number,
            step: position,
            ..self.event(time, SimEventKind::Request, Some(node), "")
        };
        if let Some(refused) = rest.strip_suffix(&format!(": refused, n{node} is not up")) {
            out.push(SimEvent {
                kind: SimEventKind::Refused,
                text: format!("{from}: c{client} {} refused", refused.trim()),
                ..base
            });
        } else {
            let (request, op) = rest.trim_start().split_once(": ")?;
            if let Some(c) = client_number {
                self.requests.insert(request.to_string(), (node, c));
            }
            out.push(SimEvent {
                request: request.strip_prefix('r').and_then(|r| r.parse().ok()),
                text: format!("{from}: c{client} {request} {op}"),
                ..base
            });
        }
        Some(())
    }

    /// A line indented under its step: faults on messages, timeouts, invariants, no-ops.
    fn aside(&mut self, time: u64, rest: &str, out: &mut Vec<SimEvent>) -> Option<()> {
        use SimEventKind as K;
        if let Some(what) = rest.strip_prefix("cluster invariant broken: ") {
            let text = format!("invariant broken: {what}");
            out.push(self.event(time, K::Invariant, None, &text));
        } else if rest == "healed" {
            out.push(self.event(time, K::Heal, None, "healed"));
        } else if let Some(why) = rest.strip_prefix("no-op: ") {
            // A partition that cut nothing new, or a heal with nothing cut, changed no link:
            // it is no band on the page. The step says why it did nothing.
            if out
                .last()
                .is_some_and(|e| matches!(e.kind, K::Partition | K::Heal))
            {
                out.pop();
            }
            if let Some(step) = out.iter_mut().rev().find(|e| e.kind == K::Step) {
                step.text = format!("{} (no-op: {why})", step.text);
            }
        } else if let Some(rest) = rest.strip_prefix('#') {
            // `#S dropped`, `#S duplicated as #T, arrives at Xms`, `#S delayed as #T, ...`
            let (slot, what) = rest.split_once(' ')?;
            let slot: u64 = slot.parse().ok()?;
            let (from, to, message) = self.messages.get(&slot)?.clone();
            if what == "dropped" {
                self.in_flight.remove(&slot);
                let text = format!("dropped -> n{to} {message}");
                out.push(SimEvent {
                    peer: Some(to),
                    message: Some(slot),
                    ..self.event(time, K::Drop, Some(from), &text)
                });
            } else {
                let (verb, rest) = what.split_once(" as #")?;
                let (copy, at) = rest.split_once(", arrives at ")?;
                let copy: u64 = copy.parse().ok()?;
                let kind = match verb {
                    "duplicated" => K::Duplicate,
                    "delayed" => {
                        self.in_flight.remove(&slot);
                        K::Delay
                    }
                    _ => return None,
                };
                self.messages.insert(copy, (from, to, message.clone()));
                self.in_flight.insert(copy);
                let text = format!("{verb} -> n{to} {message} (at {at})");
                out.push(SimEvent {
                    peer: Some(to),
                    message: Some(copy),
                    original: Some(slot),
                    arrives: at.strip_suffix("ms").and_then(|t| t.parse().ok()),
                    ..self.event(time, kind, Some(from), &text)
                });
            }
        } else if let Some(rest) = rest.strip_prefix('r') {
            // `rK: outcome unknown, timed out` (or `, its node crashed`)
            let (request, why) = rest.split_once(": outcome unknown, ")?;
            let number = request.parse().ok();
            let request = format!("r{request}");
            let (node, client) = *self.requests.get(&request)?;
            let text = format!("{request} unknown: {why}");
            out.push(SimEvent {
                client: Some(client),
                request: number,
                ..self.event(time, K::Unknown, Some(node), &text)
            });
        }
        // Queued requests change nothing a lane shows.
        Some(())
    }

    /// `nF -> nT #S Msg, arrives at Xms`, `nF -> nT #S: lost, why`, `nF -> nT Msg: lost, why`
    fn sent(&mut self, time: u64, node: u16, rest: &str, out: &mut Vec<SimEvent>) -> Option<()> {
        use SimEventKind as K;
        let (to, rest) = split_node(rest)?;
        let Some(rest) = rest.strip_prefix(" #") else {
            // Lost at sending: its node was down.
            let (message, why) = rest.strip_prefix(' ')?.rsplit_once(": lost, ")?;
            let text = format!("-> n{to} {message} (lost: {why})");
            out.push(SimEvent {
                peer: Some(to),
                ..self.event(time, K::Lost, Some(node), &text)
            });
            return Some(());
        };
        let (slot, rest) = split_number(rest)?;
        if let Some(why) = rest.strip_prefix(": lost, ") {
            // Lost at arrival: the receiver's lane, where it would have landed.
            let (_, _, message) = self.messages.get(&slot)?;
            let why = match why {
                "the link is cut" => "cut",
                "its node is down" => "down",
                other => other,
            };
            let text = format!("lost <- n{node} {message} ({why})");
            self.in_flight.remove(&slot);
            out.push(SimEvent {
                peer: Some(node),
                message: Some(slot),
                ..self.event(time, K::Lost, Some(to), &text)
            });
        } else {
            let (message, at) = rest.strip_prefix(' ')?.rsplit_once(", arrives at ")?;
            self.messages.insert(slot, (node, to, message.to_string()));
            self.in_flight.insert(slot);
            let text = format!("-> n{to} {message}");
            out.push(SimEvent {
                peer: Some(to),
                message: Some(slot),
                arrives: at.strip_suffix("ms").and_then(|t| t.parse().ok()),
                ..self.event(time, K::Send, Some(node), &text)
            });
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
