//! The drawing of a simulated run's page: an SVG with a lane per node, the events along it in
//! order, and an arrow per message.

use super::{Ev, Run, EVENT_TEXT};
use crate::render::{clip, esc};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Width of the lane labels at the left.
const LEFT: f64 = 64.0;
/// Distance between two events.
const DX: f64 = 18.0;
/// Height of the axis above the lanes (step numbers, then times).
const AXIS: f64 = 48.0;
/// Distance between two lanes.
const LANE: f64 = 66.0;
/// Longest text in a native tooltip.
const TOOLTIP: usize = 160;

/// Where a message came from: the event that put it on the wire.
#[derive(Clone)]
struct Origin {
    event: usize,
    node: u16,
    peer: u16,
    class: &'static str,
}

/// The SVG of events `start..end` of a run.
pub(super) struct Drawing<'a> {
    pub(super) run: &'a Run,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The event that begins the failing step, if any.
    pub(super) failing_step: Option<usize>,
}

impl Drawing<'_> {
    fn x(&self, event: usize) -> f64 {
        LEFT + DX / 2.0 + (event - self.start) as f64 * DX
    }

    fn lane(&self, node: u16) -> f64 {
        AXIS + 24.0 + f64::from(node) * LANE
    }

    fn right(&self) -> f64 {
        LEFT + (self.end - self.start) as f64 * DX + DX
    }

    fn shown(&self, event: usize) -> bool {
        (self.start..self.end).contains(&event)
    }

    pub(super) fn write(&self, out: &mut String) {
        let height = self.lane(self.run.nodes - 1) + 34.0;
        let width = self.right() + 24.0;
        let _ = writeln!(
            out,
            "<div class=\"scroll\"><svg id=\"sim\" class=\"sim\" xmlns=\"http://www.w3.org/2000/svg\" \
             width=\"{width:.0}\" height=\"{height:.0}\" data-nodes=\"{}\" data-events=\"{}\">",
            self.run.nodes,
            self.end - self.start
        );
        out.push_str(
            "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"16\" refY=\"5\" \
             markerWidth=\"9\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" \
             orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1e3a8a\"/></marker>\
             <marker id=\"cross\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"11\" \
             markerHeight=\"11\" markerUnits=\"userSpaceOnUse\"><path d=\"M1,1 L9,9 M9,1 L1,9\" \
             stroke=\"#dc2626\" stroke-width=\"2.2\"/></marker></defs>\n",
        );
        self.bands(out, height);
        self.axis(out, height);
        self.lanes(out);
        self.spans(out);
        self.messages(out);
        self.marks(out);
        out.push_str("</svg></div>\n");
    }

    /// Partitions from each cut to its heal, and the failing step.
    fn bands(&self, out: &mut String, height: f64) {
        let left_edge = LEFT;
        let mut open: Option<(usize, &Ev)> = None;
        let mut bands = Vec::new();
        for (i, e) in self.run.events.iter().enumerate() {
            match e.kind.as_str() {
                "partition" if open.is_none() => open = Some((i, e)),
                "heal" => {
                    if let Some((from, cut)) = open.take() {
                        bands.push((from, Some(i), cut));
                    }
                }
                _ => {}
            }
        }
        if let Some((from, cut)) = open {
            bands.push((from, None, cut));
        }
        for (from, to, cut) in bands {
            if from >= self.end || to.is_some_and(|t| t < self.start) {
                continue;
            }
            let x0 = if from < self.start {
                left_edge
            } else {
                self.x(from)
            };
            let x1 = match to {
                Some(t) if t < self.end => self.x(t),
                _ => self.right(),
            };
            let text = format!(
                "{} at {}ms, until {}",
                cut.text,
                cut.time,
                match to {
                    Some(t) => format!(
                        "{} at {}ms",
                        self.run.events[t].text, self.run.events[t].time
                    ),
                    None => "the end of the run".to_string(),
                }
            );
            let _ = writeln!(
                out,
                "<rect class=\"band partition\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" \
                 height=\"{:.1}\" data-what=\"Partition\" data-title=\"links cut\" \
                 data-text=\"{}\"><title>{}</title></rect>",
                AXIS,
                (x1 - x0).max(2.0),
                height - AXIS - 6.0,
                esc(&text),
                esc(&clip(&text, TOOLTIP))
            );
            // The nodes on the partition's side, where its text names them.
            if let Some(side) = side_of(&cut.text) {
                for n in 0..self.run.nodes.min(16) {
                    if side & (1 << n) != 0 {
                        let _ = writeln!(
                            out,
                            "<rect class=\"band partition side\" x=\"{x0:.1}\" y=\"{:.1}\" \
                             width=\"{:.1}\" height=\"28\"/>",
                            self.lane(n) - 14.0,
                            (x1 - x0).max(2.0)
                        );
                    }
                }
            }
        }
        if let Some(at) = self.failing_step.filter(|&s| self.shown(s)) {
            let next = self.run.events[at + 1..]
                .iter()
                .position(|e| e.kind == "step" || e.kind == "tail")
                .map_or(self.end, |p| (at + 1 + p).min(self.end));
            let x0 = self.x(at) - DX / 2.0;
            let x1 = if next < self.end {
                self.x(next) - DX / 2.0
            } else {
                self.right()
            };
            let e = &self.run.events[at];
            let _ = writeln!(
                out,
                "<rect id=\"failing-step\" class=\"band failing\" x=\"{x0:.1}\" y=\"{:.1}\" \
                 width=\"{:.1}\" height=\"{:.1}\" data-what=\"The failing step\" \
                 data-title=\"at {}ms\" data-text=\"{}\" tabindex=\"0\"><title>{}</title></rect>",
                AXIS - 14.0,
                x1 - x0,
                height - AXIS + 10.0,
                e.time,
                esc(&clip(&e.text, EVENT_TEXT)),
                esc(&clip(&e.text, TOOLTIP))
            );
        }
    }

    /// Step numbers and times above the lanes, and a faint line down from each step.
    fn axis(&self, out: &mut String, height: f64) {
        let mut last_time = None;
        let mut last_label = f64::NEG_INFINITY;
        for i in self.start..self.end {
            let e = &self.run.events[i];
            let x = self.x(i);
            if e.kind == "step" || e.kind == "tail" {
                let label = match (e.kind.as_str(), e.step) {
                    ("step", Some(k)) => k.to_string(),
                    ("tail", _) if e.text.starts_with("after the program: liveness") => {
                        "tail".to_string()
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
                    AXIS,
                    height - 6.0
                );
                if !label.is_empty() {
                    let failing = if Some(i) == self.failing_step {
                        " failing"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        out,
                        "<text class=\"step-label{failing}\" x=\"{x:.1}\" y=\"14\" \
                         text-anchor=\"middle\">{}</text>",
                        esc(&label)
                    );
                }
            }
            if last_time != Some(e.time) {
                last_time = Some(e.time);
                let _ = writeln!(
                    out,
                    "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
                    AXIS - 8.0,
                    AXIS
                );
                // Times too close to the last one written stay ticks; the panel has them.
                if x - last_label >= 52.0 {
                    last_label = x;
                    let _ = writeln!(
                        out,
                        "<text class=\"time-label\" x=\"{x:.1}\" y=\"{:.1}\">{}ms</text>",
                        AXIS - 12.0,
                        e.time
                    );
                }
            }
        }
    }

    /// Each node's lane: its line where the node is up, a dotted gap where it is down.
    fn lanes(&self, out: &mut String) {
        let mut up = vec![true; usize::from(self.run.nodes)];
        for e in &self.run.events[..self.start] {
            if let Some(n) = e.node {
                match e.kind.as_str() {
                    "crash" => up[usize::from(n)] = false,
                    "restart" => up[usize::from(n)] = true,
                    _ => {}
                }
            }
        }
        for n in 0..self.run.nodes {
            let y = self.lane(n);
            let _ = writeln!(
                out,
                "<text class=\"lane-label\" data-node=\"{n}\" x=\"10\" y=\"{:.1}\">n{n}</text>",
                y + 4.0
            );
            let mut from = LEFT;
            let mut is_up = up[usize::from(n)];
            let segment = |out: &mut String, x0: f64, x1: f64, is_up: bool| {
                let class = if is_up { "lane" } else { "lane-down" };
                let _ = writeln!(
                    out,
                    "<line class=\"{class}\" data-node=\"{n}\" x1=\"{x0:.1}\" y1=\"{y:.1}\" \
                     x2=\"{x1:.1}\" y2=\"{y:.1}\"/>"
                );
            };
            for i in self.start..self.end {
                let e = &self.run.events[i];
                if e.node != Some(n) {
                    continue;
                }
                let change = match e.kind.as_str() {
                    "crash" => is_up,
                    "restart" => !is_up,
                    _ => false,
                };
                if change {
                    segment(out, from, self.x(i), is_up);
                    from = self.x(i);
                    is_up = !is_up;
                }
            }
            segment(out, from, self.right(), is_up);
        }
    }

    /// A bar on the lane from each client request to its reply (or its unknown end).
    fn spans(&self, out: &mut String) {
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        for i in self.start..self.end {
            let e = &self.run.events[i];
            let (Some(request), Some(node)) = (e.request, e.node) else {
                continue;
            };
            match e.kind.as_str() {
                "request" => {
                    open.insert(request, i);
                }
                "reply" | "reject" | "unknown" => {
                    let Some(began) = open.remove(&request) else {
                        continue;
                    };
                    let class = if e.kind == "unknown" {
                        "op-span unknown"
                    } else {
                        "op-span"
                    };
                    let y = self.lane(node);
                    let text = format!(
                        "{}\n{} ({}ms to {}ms)",
                        self.run.events[began].text, e.text, self.run.events[began].time, e.time
                    );
                    let _ = writeln!(
                        out,
                        "<line class=\"{class}\" data-request=\"{request}\" x1=\"{:.1}\" \
                         y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" data-what=\"Client operation\" \
                         data-title=\"r{request}\" data-text=\"{}\"/>",
                        self.x(began),
                        self.x(i),
                        esc(&clip(&text, EVENT_TEXT))
                    );
                }
                _ => {}
            }
        }
    }

    /// An arrow per message, from where it was put on the wire to where it ended.
    fn messages(&self, out: &mut String) {
        let mut origins: BTreeMap<u64, Origin> = BTreeMap::new();
        for (i, e) in self.run.events.iter().enumerate() {
            if i >= self.end && origins.values().all(|o| !self.shown(o.event)) {
                break;
            }
            let (Some(node), Some(peer)) = (e.node, e.peer) else {
                continue;
            };
            match (e.kind.as_str(), e.message) {
                ("send", Some(m)) => {
                    origins.insert(
                        m,
                        Origin {
                            event: i,
                            node,
                            peer,
                            class: "",
                        },
                    );
                }
                ("duplicate", Some(m)) => {
                    origins.insert(
                        m,
                        Origin {
                            event: i,
                            node,
                            peer,
                            class: " dup",
                        },
                    );
                }
                ("delay", Some(m)) => {
                    // A delayed message is the one sent: its arrow starts at the send.
                    let from = e.original.and_then(|o| origins.remove(&o));
                    let origin = from.unwrap_or(Origin {
                        event: i,
                        node,
                        peer,
                        class: "",
                    });
                    origins.insert(
                        m,
                        Origin {
                            class: " delayed",
                            ..origin
                        },
                    );
                }
                ("deliver" | "lost" | "drop", Some(m)) => {
                    let Some(origin) = origins.remove(&m) else {
                        continue;
                    };
                    let (class, to_y) = match e.kind.as_str() {
                        "deliver" => ("delivered", self.lane(node)),
                        "lost" => ("lost", self.lane(node)),
                        // Taken off the wire between the two lanes.
                        _ => ("dropped", (self.lane(node) + self.lane(peer)) / 2.0),
                    };
                    self.arrow(out, m, &origin, Some((i, to_y)), class, e);
                }
                ("lost", None) if self.shown(i) => {
                    // Lost as it was sent (its receiver was down): a short arrow to that lane.
                    let x = self.x(i);
                    let _ = writeln!(
                        out,
                        "<line class=\"msg lost\" data-from=\"{node}\" data-to=\"{peer}\" \
                         data-send=\"{i}\" data-end=\"{i}\" x1=\"{x:.1}\" y1=\"{:.1}\" \
                         x2=\"{:.1}\" y2=\"{:.1}\" marker-end=\"url(#cross)\" \
                         data-what=\"Message lost\" data-title=\"n{node} → n{peer}\" \
                         data-text=\"{}\"/>",
                        self.lane(node),
                        x + DX / 2.0,
                        self.lane(peer),
                        esc(&clip(&e.text, EVENT_TEXT))
                    );
                }
                _ => {}
            }
        }
        // Still on the wire when the run (or the window) ended.
        for (m, origin) in &origins {
            if self.shown(origin.event) {
                let e = &self.run.events[origin.event];
                self.arrow(out, *m, origin, None, "open", e);
            }
        }
    }

    /// One message's arrow; `end` is the event that ended it and the height it ends at, `None`
    /// for a message that had not arrived by the end of the run.
    fn arrow(
        &self,
        out: &mut String,
        message: u64,
        origin: &Origin,
        end: Option<(usize, f64)>,
        class: &str,
        ended_by: &Ev,
    ) {
        let shown_end = end.filter(|(i, _)| self.shown(*i));
        if !self.shown(origin.event) && shown_end.is_none() {
            return;
        }
        let x1 = if self.shown(origin.event) {
            self.x(origin.event)
        } else {
            LEFT
        };
        let y1 = self.lane(origin.node);
        let (x2, y2, class, end_index) = match (end, shown_end) {
            (_, Some((i, y))) => (self.x(i), y, class, i.to_string()),
            // Ends past the events drawn, or never: to the right edge, open.
            (Some((i, _)), None) => (self.right(), self.lane(origin.peer), "open", i.to_string()),
            (None, _) => (self.right(), self.lane(origin.peer), "open", String::new()),
        };
        let marker = match class {
            "lost" | "dropped" => "url(#cross)",
            _ => "url(#head)",
        };
        let sent = &self.run.events[origin.event];
        let how = match (class, end) {
            ("open", None) => "still on the wire when the run ended".to_string(),
            ("open", Some(_)) => "ends after the events drawn".to_string(),
            _ => format!("{} at {}ms", ended_by.text, ended_by.time),
        };
        let text = format!("{} at {}ms\n{how}", sent.text, sent.time);
        let _ = writeln!(
            out,
            "<line class=\"msg {class}{}\" data-msg=\"{message}\" data-from=\"{}\" data-to=\"{}\" \
             data-send=\"{}\" data-end=\"{end_index}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" \
             x2=\"{x2:.1}\" y2=\"{y2:.1}\" marker-end=\"{marker}\" data-what=\"Message #{message}\" \
             data-title=\"n{} → n{}\" data-text=\"{}\" tabindex=\"0\"><title>{}</title></line>",
            origin.class,
            origin.node,
            origin.peer,
            origin.event,
            origin.node,
            origin.peer,
            esc(&clip(&text, EVENT_TEXT)),
            esc(&clip(&text, TOOLTIP))
        );
        if origin.class == " dup" && self.shown(origin.event) {
            let _ = writeln!(
                out,
                "<text class=\"dup-label\" x=\"{:.1}\" y=\"{:.1}\">dup</text>",
                x1 + 3.0,
                y1 - 8.0
            );
        }
    }

    /// A mark per event on its node's lane; a line across the lanes for a cluster-wide one.
    fn marks(&self, out: &mut String) {
        for i in self.start..self.end {
            let e = &self.run.events[i];
            let x = self.x(i);
            let what = kind_title(&e.kind);
            let step = e
                .step
                .map_or_else(|| "after the program".to_string(), |k| format!("step {k}"));
            let title = format!("{}ms · {step}", e.time);
            let Some(node) = e.node else {
                if matches!(
                    e.kind.as_str(),
                    "invariant" | "other" | "tail" | "heal" | "partition"
                ) {
                    let class = if e.kind == "invariant" {
                        "global invariant"
                    } else {
                        "global"
                    };
                    let _ = writeln!(
                        out,
                        "<line class=\"{class}\" data-event=\"{i}\" data-kind=\"{}\" \
                         x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" data-what=\"{what}\" \
                         data-title=\"{}\" data-text=\"{}\"><title>{}</title></line>",
                        esc(&e.kind),
                        AXIS,
                        self.lane(self.run.nodes - 1) + 20.0,
                        esc(&title),
                        esc(&clip(&e.text, EVENT_TEXT)),
                        esc(&clip(&e.text, TOOLTIP))
                    );
                }
                continue;
            };
            let y = self.lane(node);
            let attributes = format!(
                "class=\"ev {}\" data-event=\"{i}\" data-kind=\"{}\" data-node=\"{node}\" \
                 data-x=\"{x:.1}\" data-y=\"{y:.1}\" data-what=\"{what} at n{node}\" \
                 data-title=\"{}\" data-text=\"{}\" tabindex=\"0\"",
                esc(&e.kind),
                esc(&e.kind),
                esc(&title),
                esc(&clip(&e.text, EVENT_TEXT))
            );
            let tooltip = format!("<title>{}</title>", esc(&clip(&e.text, TOOLTIP)));
            match e.kind.as_str() {
                // A request points into the lane, a reply out of it.
                "request" => {
                    let _ = writeln!(
                        out,
                        "<path {attributes} d=\"M{:.1},{:.1} L{:.1},{y:.1} L{:.1},{:.1} Z\">{tooltip}</path>",
                        x - 6.0,
                        y - 7.0,
                        x + 6.0,
                        x - 6.0,
                        y + 7.0
                    );
                }
                "reply" => {
                    let _ = writeln!(
                        out,
                        "<path {attributes} d=\"M{:.1},{:.1} L{:.1},{y:.1} L{:.1},{:.1} Z\">{tooltip}</path>",
                        x + 6.0,
                        y - 7.0,
                        x - 6.0,
                        x + 6.0,
                        y + 7.0
                    );
                }
                kind => {
                    let r = if kind == "crash" || kind == "restart" {
                        7.0
                    } else {
                        4.5
                    };
                    let _ = writeln!(
                        out,
                        "<circle {attributes} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\">{tooltip}</circle>"
                    );
                    let glyph = match kind {
                        "crash" => "✕",
                        "restart" => "↻",
                        _ => "",
                    };
                    if !glyph.is_empty() {
                        let _ = writeln!(
                            out,
                            "<text class=\"glyph\" x=\"{x:.1}\" y=\"{:.1}\" fill=\"#fff\" \
                             text-anchor=\"middle\">{glyph}</text>",
                            y + 4.0
                        );
                    }
                }
            }
        }
    }
}

/// The nodes on a partition's side (`side: 5` is n0 and n2), when its text names them.
fn side_of(text: &str) -> Option<u16> {
    let rest = text.split_once("side: ")?.1;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// What the panel calls an event of `kind`.
fn kind_title(kind: &str) -> &'static str {
    match kind {
        "step" => "Step",
        "request" => "Client request",
        "refused" => "Request refused",
        "send" => "Message sent",
        "deliver" => "Message delivered",
        "drop" => "Message dropped",
        "duplicate" => "Message duplicated",
        "delay" => "Message delayed",
        "lost" => "Message lost",
        "timer" => "Timer",
        "crash" => "Crash",
        "restart" => "Restart",
        "partition" => "Partition",
        "heal" => "Heal",
        "reply" => "Reply",
        "reject" => "Request rejected",
        "unknown" => "Outcome unknown",
        "tail" => "After the program",
        "invariant" => "Cluster invariant broken",
        _ => "Event",
    }
}
