//! One partition's section: rank-based time axis, a row per client, a bar per operation, and the
//! line through the linearization points.

use super::{clip, code, esc, explanation, plural, Mark, Status, BAR_TEXT, TOOLTIP_STATE};
use crate::history::{History, Operation, Source};
use std::collections::BTreeMap;
use std::fmt::{Debug, Write};

/// Pixels, for what does not scale with the window.
const LABEL_W: f64 = 92.0;
const LANE_H: f64 = 48.0;
const BAR_H: f64 = 38.0;
const ROW_PAD: f64 = 4.0;
const AXIS_H: f64 = 30.0;
/// The narrowest a step between two event times may get before the partition scrolls sideways.
const MIN_SLOT_PX: f64 = 32.0;

/// Horizontal units, in which the track is `width` wide and drawn in percentages of that, so it
/// fills the window: a step between two consecutive event times is `SLOT`.
const SLOT: f64 = 100.0;
/// Margin before the first and after the last event time.
const PAD: f64 = 22.0;
/// Room to the right for operations that never returned.
const OPEN: f64 = 130.0;

/// One partition, ready to draw.
pub(super) struct Section<'a, 'r> {
    pub index: usize,
    /// The partition key (`Debug`).
    pub key: &'a str,
    /// The only partition: no key to show.
    pub alone: bool,
    /// History indices, in history order.
    pub ops: &'a [usize],
    /// The (partial) linearization, history indices in order; empty when unknown.
    pub order: &'a [usize],
    pub status: Status<'r>,
    pub initial_state: &'a str,
}

/// Where an operation's bar goes: horizontally in units, vertically in pixels within its row.
struct Bar {
    h: usize,
    left: f64,
    width: f64,
    top: f64,
    /// The bar's bottom edge within the rows' box, where its linearization point sits.
    bottom: f64,
}

/// The x axis: each distinct event time of the partition at `PAD + rank * SLOT` units, on a
/// track `width` units wide.
struct Scale {
    times: Vec<u64>,
    width: f64,
}

impl Scale {
    fn x(&self, t: u64) -> f64 {
        // Every time drawn is in `times`, so the search always finds it.
        PAD + self.times.binary_search(&t).unwrap_or(0) as f64 * SLOT
    }
}

/// Percent of `total`, for inline styles.
fn pct(units: f64, total: f64) -> String {
    format!("{:.3}%", units / total * 100.0)
}

impl Section<'_, '_> {
    pub(super) fn write<Op: Debug, Out: Debug>(
        &self,
        out: &mut String,
        history: &History<Op, Out>,
        marks: &[Mark],
    ) {
        let ops = &history.ops;
        let mut times: Vec<u64> = self
            .ops
            .iter()
            .flat_map(|&h| std::iter::once(ops[h].call).chain(ops[h].ret))
            .collect();
        times.sort_unstable();
        times.dedup();
        let open = self.ops.iter().any(|&h| ops[h].ret.is_none());
        let last_x = PAD + times.len().saturating_sub(1) as f64 * SLOT;
        let width = last_x + PAD + if open { OPEN } else { 0.0 };
        let scale = Scale { times, width };
        let x = |t: u64| scale.x(t);

        // A row per client; a client's overlapping operations (a crashed client's open one and
        // what followed) get lanes of their own.
        let mut clients: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for &h in self.ops {
            clients.entry(ops[h].client).or_default().push(h);
        }
        let mut bars: Vec<Bar> = Vec::with_capacity(self.ops.len());
        let mut rows: Vec<(u64, f64, usize)> = Vec::new(); // client, height, first bar
        let mut row_top = 0.0;
        for (&client, list) in clients.iter_mut() {
            list.sort_by_key(|&h| (ops[h].call, h));
            let first = bars.len();
            let mut lane_ends: Vec<f64> = Vec::new();
            for &h in list.iter() {
                let left = x(ops[h].call);
                let right = ops[h].ret.map_or(width, x);
                let lane = match lane_ends.iter().position(|&end| end < left) {
                    Some(l) => l,
                    None => {
                        lane_ends.push(0.0);
                        lane_ends.len() - 1
                    }
                };
                lane_ends[lane] = right;
                let top = ROW_PAD + lane as f64 * LANE_H + (LANE_H - BAR_H) / 2.0;
                bars.push(Bar {
                    h,
                    left,
                    width: right - left,
                    top,
                    bottom: row_top + top + BAR_H,
                });
            }
            let height = lane_ends.len() as f64 * LANE_H + 2.0 * ROW_PAD;
            rows.push((client, height, first));
            row_top += height;
        }
        let rows_h = row_top;

        // Clock readings (nanoseconds since 1970) make unreadable labels: show offsets instead.
        let times = &scale.times;
        let base = times
            .first()
            .copied()
            .filter(|_| times.last() >= Some(&1_000_000));
        self.heading(out, history, marks, base);
        let _ = writeln!(
            out,
            "<div class=\"scroll\"><div class=\"timeline\" style=\"min-width:{:.0}px\">",
            LABEL_W + width / SLOT * MIN_SLOT_PX
        );
        self.axis(out, times, width, base);
        let _ = writeln!(out, "<div class=\"rows\" style=\"height:{rows_h:.0}px\">");
        for (i, &(client, height, first)) in rows.iter().enumerate() {
            let end = rows.get(i + 1).map_or(bars.len(), |r| r.2);
            let _ = writeln!(
                out,
                "<div class=\"row\" style=\"height:{height:.0}px\"><div class=\"label\" \
                 style=\"width:{LABEL_W:.0}px\">client {client}</div><div class=\"track\">"
            );
            for bar in &bars[first..end] {
                self.bar(out, &ops[bar.h], history.source(bar.h), bar, width, marks);
            }
            out.push_str("</div></div>\n");
        }
        self.overlay(out, ops, &bars, &scale, rows_h);
        out.push_str("</div></div></div>\n</section>\n");
    }

    fn heading<Op: Debug, Out: Debug>(
        &self,
        out: &mut String,
        history: &History<Op, Out>,
        marks: &[Mark],
        base: Option<u64>,
    ) {
        let violating = matches!(self.status, Status::Violating(_));
        let _ = write!(
            out,
            "<section class=\"partition{}\" id=\"partition-{}\" data-initial=\"{}\">\n<h2>",
            if violating { " violating" } else { "" },
            self.index,
            esc(self.initial_state)
        );
        if self.alone {
            out.push_str("All operations");
        } else {
            let _ = write!(out, "Partition <code>{}</code>", esc(&clip(self.key, 200)));
        }
        let n = self.ops.len();
        let placed = self
            .ops
            .iter()
            .filter(|&&h| marks[h].position.is_some())
            .count();
        let (class, status) = match self.status {
            Status::Linearized => (
                "ok",
                format!(
                    "linearizable · {}, {placed} linearized",
                    plural(n, "operation")
                ),
            ),
            Status::Violating(v) => (
                "bad",
                format!(
                    "violation · {} placed, then #{} cannot be",
                    plural(placed, "operation"),
                    v.blocked
                ),
            ),
            Status::NotReached => (
                "muted",
                format!(
                    "{} · no order shown: the check stopped at a violation elsewhere",
                    plural(n, "operation")
                ),
            ),
            Status::GaveUp => (
                "muted",
                format!(
                    "{} · undecided: the checker gave up",
                    plural(n, "operation")
                ),
            ),
        };
        let _ = write!(
            out,
            " <span class=\"status {class}\">{}</span>",
            esc(&status)
        );
        if let Some(base) = base {
            let _ = write!(
                out,
                " <span class=\"axis-base\">times are offsets from t₀ = {base}</span>"
            );
        }
        out.push_str("</h2>\n");
        if let Status::Violating(v) = self.status {
            let blocked = &history.ops[v.blocked];
            let _ = writeln!(
                out,
                "<div class=\"explain\"><b>Operation #{} (client {})</b> {} → {} {}.\
                 <div class=\"hint\">The numbered operations are the longest order the checker \
                 found that respects real time and matches the model; the red operation is where \
                 every order gets stuck. Hover an operation for the model's state.</div></div>",
                v.blocked,
                blocked.client,
                code(&format!("{:?}", blocked.op)),
                code(&output_text(blocked)),
                explanation(v, code),
            );
        }
    }

    /// Ticks at each distinct time; labels where they fit at the narrowest.
    fn axis(&self, out: &mut String, times: &[u64], width: f64, base: Option<u64>) {
        let _ = write!(
            out,
            "<div class=\"row axis\"><div class=\"label\" style=\"width:{LABEL_W:.0}px\">time \
             →</div><div class=\"track\" style=\"height:{AXIS_H:.0}px\">"
        );
        let label = |r: usize, t: u64| match base {
            Some(_) if r == 0 => "t₀".to_string(),
            Some(base) => format!("+{}", t - base),
            None => t.to_string(),
        };
        let widest = (0..times.len())
            .map(|r| label(r, times[r]).chars().count())
            .max()
            .unwrap_or(1);
        let every = ((widest as f64 * 7.0 + 14.0) / MIN_SLOT_PX).ceil().max(1.0) as usize;
        for (r, &t) in times.iter().enumerate() {
            let x = pct(PAD + r as f64 * SLOT, width);
            let _ = write!(
                out,
                "<i class=\"tick\" style=\"left:{x}\" title=\"{t}\"></i>"
            );
            if r % every == 0 {
                let _ = write!(
                    out,
                    "<span class=\"tick-label{}\" style=\"left:{x}\">{}</span>",
                    if r == 0 { " first" } else { "" },
                    label(r, t)
                );
            }
        }
        out.push_str("</div></div>\n");
    }

    fn bar<Op: Debug, Out: Debug>(
        &self,
        out: &mut String,
        op: &Operation<Op, Out>,
        source: Option<&Source>,
        bar: &Bar,
        width: f64,
        marks: &[Mark],
    ) {
        let mark = &marks[bar.h];
        let impossible = match self.status {
            Status::Violating(v) if v.blocked == bar.h => Some(v),
            _ => None,
        };
        let op_text = format!("{:?}", op.op);
        let out_text = output_text(op);
        let mut class = String::from("op");
        class.push_str(if impossible.is_some() {
            " impossible"
        } else if mark.position.is_some() {
            " lin"
        } else {
            " unplaced"
        });
        if op.is_unknown() {
            class.push_str(" unknown");
        }
        if op.ret.is_none() {
            class.push_str(" open");
        }
        let _ = write!(
            out,
            "<div class=\"{class}\"{} tabindex=\"0\" data-index=\"{}\"",
            if impossible.is_some() {
                " id=\"impossible-op\""
            } else {
                ""
            },
            bar.h
        );
        if let Some(p) = mark.position {
            let _ = write!(out, " data-lin=\"{p}\"");
        }
        let _ = write!(
            out,
            " data-client=\"{}\" data-call=\"{}\" data-ret=\"{}\" data-op=\"{}\" data-out=\"{}\"",
            op.client,
            op.call,
            op.ret
                .map_or_else(|| "never".to_string(), |t| t.to_string()),
            esc(&op_text),
            esc(&out_text)
        );
        let mut tooltip = format!(
            "#{} · client {}\n{op_text} → {out_text}\ncalled at {}, {}",
            bar.h,
            op.client,
            op.call,
            op.ret.map_or_else(
                || "never returned".to_string(),
                |t| format!("returned at {t}")
            )
        );
        // Where the file wrote it, and the times and fields it wrote: what a person searches
        // the file for.
        if let Some(source) = source {
            if let Some(lines) = source.lines() {
                let _ = write!(out, " data-where=\"{}\"", esc(&lines));
                let _ = write!(tooltip, "\n{lines} of the file");
            }
            if let Some(call) = &source.call_time {
                let times = format!("{call} → {}", source.ret_time.as_deref().unwrap_or("never"));
                let _ = write!(out, " data-time=\"{}\"", esc(&times));
                let _ = write!(tooltip, "\ntime {times}");
            }
            if !source.fields.is_empty() {
                let fields: Vec<String> = source
                    .fields
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let fields = fields.join(" ");
                let _ = write!(
                    out,
                    " data-fields=\"{}\"",
                    esc(&clip(&fields, BAR_TEXT * 4))
                );
                let _ = write!(tooltip, "\n{}", clip(&fields, BAR_TEXT * 4));
            }
        }
        if let Some(v) = impossible {
            let _ = write!(
                out,
                " data-state-before=\"{}\" data-why=\"{}\"",
                esc(&clip(&v.state, super::STATE_TEXT)),
                esc(&explanation(v, plain))
            );
            if let Some(e) = &v.expected {
                let _ = write!(out, " data-says=\"{}\"", esc(e));
            }
            let _ = write!(tooltip, "\n{}", explanation(v, plain));
        } else if let (Some(p), Some(state), Some(says)) =
            (mark.position, &mark.state_after, &mark.says)
        {
            let _ = write!(
                out,
                " data-state=\"{}\" data-says=\"{}\"",
                esc(state),
                esc(says)
            );
            let _ = write!(
                tooltip,
                "\nlinearized {p}; the model says {says}\nstate after: {}",
                clip(state, TOOLTIP_STATE)
            );
        } else {
            tooltip.push_str("\nnot placed in the order shown");
        }
        let badge = match (impossible, mark.position) {
            (Some(_), _) => "<span class=\"badge\">✕</span>".to_string(),
            (None, Some(p)) => format!("<span class=\"badge\">{p}</span>"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            " title=\"{}\" style=\"left:{};width:{};top:{:.0}px;height:{BAR_H:.0}px\">\
             {badge}<span class=\"text\"><span class=\"call\">{}</span><span class=\"ret\">→ {}\
             </span></span></div>",
            esc(&tooltip),
            pct(bar.left, width),
            pct(bar.width, width),
            bar.top,
            esc(&clip(&op_text, BAR_TEXT)),
            esc(&clip(&out_text, BAR_TEXT))
        );
    }

    /// Grid lines at each event time, and the linearization points joined in order: each inside
    /// its operation's interval and after the previous one (the midpoint of what is left, so the
    /// line reads left to right). For a violation, a dashed red segment leads on to the
    /// operation that cannot follow. The lines go behind the bars, the points over them.
    fn overlay<Op, Out>(
        &self,
        out: &mut String,
        ops: &[Operation<Op, Out>],
        bars: &[Bar],
        scale: &Scale,
        height: f64,
    ) {
        let (times, width) = (&scale.times, scale.width);
        let x = |t: u64| scale.x(t);
        let bottom: BTreeMap<usize, f64> = bars.iter().map(|b| (b.h, b.bottom)).collect();
        let span = |h: usize| {
            let o = &ops[h];
            (x(o.call), o.ret.map_or(width - OPEN / 2.0, x))
        };
        // Upper bounds, last to first; the operation that cannot follow still had to take
        // effect before it returned, so the points before it stay before that too.
        let blocked = match self.status {
            Status::Violating(v) if bottom.contains_key(&v.blocked) => Some(v.blocked),
            _ => None,
        };
        let mut upper: Vec<f64> = self.order.iter().map(|&h| span(h).1).collect();
        let mut bound = blocked.map_or(f64::INFINITY, |b| span(b).1);
        for u in upper.iter_mut().rev() {
            bound = bound.min(*u);
            *u = bound;
        }
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(self.order.len());
        let mut previous = 0.0_f64;
        for (k, &h) in self.order.iter().enumerate() {
            let low = previous.max(span(h).0);
            let p = if low <= upper[k] {
                (low + upper[k]) / 2.0
            } else {
                low
            };
            previous = p;
            points.push((p, bottom.get(&h).copied().unwrap_or(0.0)));
        }
        let next = blocked.map(|b| {
            let (call, ret) = span(b);
            let low = previous.max(call);
            ((low + ret.max(low)) / 2.0, bottom[&b])
        });
        let _ = write!(
            out,
            "<svg class=\"lines\" aria-hidden=\"true\" viewBox=\"0 0 {width:.0} {height:.0}\" \
             preserveAspectRatio=\"none\" style=\"left:{LABEL_W:.0}px;height:{height:.0}px\">"
        );
        for r in 0..times.len() {
            let gx = PAD + r as f64 * SLOT;
            let _ = write!(
                out,
                "<line class=\"grid\" x1=\"{gx:.1}\" x2=\"{gx:.1}\" y1=\"0\" y2=\"{height:.0}\"/>"
            );
        }
        let join = |pts: &[(f64, f64)]| {
            pts.iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if points.len() > 1 {
            let _ = write!(
                out,
                "<polyline class=\"path\" points=\"{}\"/>",
                join(&points)
            );
        }
        if let (Some(&last), Some(next)) = (points.last(), next) {
            let _ = write!(
                out,
                "<polyline class=\"stuck\" points=\"{}\"/>",
                join(&[last, next])
            );
        }
        out.push_str("</svg>\n");
        if points.is_empty() && next.is_none() {
            return;
        }
        let _ = write!(
            out,
            "<div class=\"points\" aria-hidden=\"true\" style=\"left:{LABEL_W:.0}px\">"
        );
        for (x, y) in &points {
            let _ = write!(
                out,
                "<i class=\"point\" style=\"left:{};top:{y:.0}px\"></i>",
                pct(*x, width)
            );
        }
        if let Some((x, y)) = next {
            let _ = write!(
                out,
                "<i class=\"point stuck\" style=\"left:{};top:{y:.0}px\"></i>",
                pct(x, width)
            );
        }
        out.push_str("</div>\n");
    }
}

/// What an operation returned, as the page says it.
fn output_text<Op, Out: Debug>(op: &Operation<Op, Out>) -> String {
    match (&op.ret, &op.output) {
        (None, _) => "? (never returned)".to_string(),
        (Some(_), None) => "? (output unknown)".to_string(),
        (Some(_), Some(out)) => format!("{out:?}"),
    }
}

/// For text that is not HTML (attributes, tooltips): values as they are.
fn plain(text: &str) -> String {
    text.to_string()
}
