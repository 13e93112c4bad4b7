//! The history as a web page a person can read: [`render_html`].
//!
//! One self-contained HTML file (inline CSS and JS, nothing fetched) shows each partition's
//! operations as bars from invocation to return, one row per client, with the order the checker
//! found numbered on them. For a violation it numbers the longest partial linearization, marks the
//! operation that cannot follow it in red and says why, in the model's own words. Replaying each
//! (partial) linearization with the model gives the state after every linearized operation, shown
//! in the bar's tooltip and in a panel that follows the pointer.
//!
//! Times are only ordered, never measured (see [`crate::history`]), so the x axis is the rank of
//! each distinct event time within the partition: bars stay readable whether the clock counts
//! events or nanoseconds. Where the history was read from a file, each operation also shows its
//! lines there, and the times and extra fields the file wrote.
//!
//! A page draws at most [`RenderOptions::max_ops`] operations (5,000 by default): for a violation
//! the ones around the operation that cannot be placed, otherwise the first ones in time, and it
//! says what it left out. A browser cannot lay out a few hundred thousand bars anyway, and the
//! page of a 200,000-operation history once took 302 MB (and 1.45 GB to write).
//!
//! A simulated run's report is drawn differently, as a lane per node with its messages as
//! arrows: [`render_sim_html`].

mod layout;
mod sim;

pub use sim::{render_sim_html, SimPageError};

use crate::check::{Report, Verdict, Violation};
use crate::history::History;
use crate::spec::Model;
use std::collections::HashMap;
use std::fmt::{Debug, Write};
use std::hash::Hash;

/// The page around the body; `<!--title-->` and `<!--body-->` are filled in. Neither marker can
/// come from user text, which is escaped (`<` becomes `&lt;`).
const TEMPLATE: &str = include_str!("page.html");

/// Longest operation or output text drawn on a bar; the tooltip and the panel have all of it.
const BAR_TEXT: usize = 80;
/// Longest model state kept per operation: a large state repeated over many operations would
/// make the page heavy, and nobody reads past this on a hover.
const STATE_TEXT: usize = 4000;
/// Longest state in a bar's native tooltip.
const TOOLTIP_STATE: usize = 400;

/// How much a page shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Operations drawn at most (events, for a simulated run's page); the page says how many
    /// it left out. Default 5,000.
    pub max_ops: usize,
    /// Refuse to write a page estimated larger than this many bytes. Default 256 MiB.
    pub max_page_bytes: u64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            max_ops: 5_000,
            max_page_bytes: 256 << 20,
        }
    }
}

impl RenderOptions {
    /// See [`RenderOptions::max_ops`].
    pub fn max_ops(mut self, n: usize) -> Self {
        self.max_ops = n;
        self
    }
    /// See [`RenderOptions::max_page_bytes`].
    pub fn max_page_bytes(mut self, bytes: u64) -> Self {
        self.max_page_bytes = bytes;
        self
    }
}

/// The page would be larger than [`RenderOptions::max_page_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageTooLarge {
    /// The estimate, in bytes.
    pub estimate: u64,
    /// The cap.
    pub cap: u64,
    /// Operations it would draw.
    pub ops: usize,
}

impl std::fmt::Display for PageTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the page would take about {} MB for {} operations, over the cap of {} MB: draw fewer \
             operations (--max-ops)",
            self.estimate >> 20,
            self.ops,
            self.cap >> 20
        )
    }
}

impl std::error::Error for PageTooLarge {}

/// Renders `history` and the checker's `report` on it as one self-contained HTML page, with
/// the default [`RenderOptions`] (at most 5,000 operations drawn).
///
/// `initial` and `partition` must be the ones the report was made with
/// ([`check_linearizable_by`](crate::check::check_linearizable_by); pass `|_| ()` for an
/// unpartitioned [`check_linearizable`](crate::check::check_linearizable)): the page replays
/// each (partial) linearization with the model from `initial` to show the state after every
/// operation, and splits the history the same way to draw a section per partition, in order of
/// first appearance. Each linearization goes to the section whose key (`Debug`) the report
/// names for it ([`Order::partition`](crate::check::Order::partition)).
///
/// The page needs no network. For tools reading it: every operation is an element of class `op`
/// with `data-index` (its index in `history.ops`) and, when linearized, `data-lin` (its position
/// in its partition's linearization, from 1); the operation that cannot be linearized has the id
/// `impossible-op` and the class `impossible`.
///
/// ```
/// use stateprop::check::{check_linearizable, CheckConfig};
/// use stateprop::history::History;
/// use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
///
/// let mut h = History::new();
/// h.push(0, RegisterOp::Write { value: 1 }, 0, 10, RegisterOut::Written);
/// h.push(1, RegisterOp::Read, 11, 12, RegisterOut::Value(Some(2))); // never written
/// let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
/// let html = stateprop::render::render_html(&h, &CasRegister::default(), &report, |_| (), "register");
/// assert!(html.contains("id=\"impossible-op\""));
/// // std::fs::write("history.html", html) and open it in a browser.
/// ```
pub fn render_html<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: P,
    title: &str,
) -> String
where
    M: Model,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let options = RenderOptions::default().max_page_bytes(u64::MAX);
    render_html_with(history, initial, report, partition, title, &options)
        .expect("no page size cap")
}

/// [`render_html`] with `options`; `Err` when the page would be larger than
/// [`RenderOptions::max_page_bytes`].
pub fn render_html_with<M, K, P>(
    history: &History<M::Op, M::Output>,
    initial: &M,
    report: &Report,
    partition: P,
    title: &str,
    options: &RenderOptions,
) -> Result<String, PageTooLarge>
where
    M: Model,
    K: Hash + Eq + Debug,
    P: Fn(&M::Op) -> K,
{
    let (mut parts, part_of) = split(history, &partition);
    let n = history.ops.len();
    let valid = |order: &[usize]| order.iter().all(|&h| h < n);

    // Which partition each reported order belongs to: the one the report names. The checker
    // leaves out partitions it had nothing to search in (reads that never returned), so
    // position in the report says nothing; keys do.
    let by_key: HashMap<&str, usize> = parts
        .iter()
        .enumerate()
        .map(|(p, part)| (part.key.as_str(), p))
        .collect();
    let mut orders: Vec<Option<&[usize]>> = vec![None; parts.len()];
    let mut violation = None;
    match &report.verdict {
        Verdict::Holds => {
            for order in &report.orders {
                let p = match &order.partition {
                    Some(key) => by_key.get(key.as_str()).copied(),
                    None if parts.len() == 1 => Some(0),
                    None => None,
                };
                if let Some(p) = p.filter(|_| valid(&order.ops)) {
                    orders[p] = Some(&order.ops);
                }
            }
            // A partition of reads that never returned is left out by the checker (they change
            // nothing and check nothing): in a linearizable history, its order is empty.
            for (p, part) in parts.iter().enumerate() {
                let silent = |&h: &usize| {
                    let o = &history.ops[h];
                    o.is_unknown() && M::is_read_only(&o.op)
                };
                if orders[p].is_none() && part.ops.iter().all(silent) {
                    orders[p] = Some(&[]);
                }
            }
        }
        Verdict::Violated(v) if v.blocked < n && valid(&v.linearized) => {
            let p = part_of[v.blocked];
            orders[p] = Some(&v.linearized);
            violation = Some((p, v));
        }
        _ => {}
    }

    let focus = violation.map(|(_, v)| v.blocked);
    let (shown, window_note) = window(history, focus, options.max_ops);
    for part in &mut parts {
        part.ops.retain(|&h| shown[h]);
    }
    let drawn = shown.iter().filter(|&&s| s).count();

    // The whole order is replayed (the states depend on all of it), but only the operations
    // drawn keep their state's text: that text is most of a page's weight.
    let mut marks = vec![Mark::default(); n];
    for order in orders.iter().flatten() {
        let mut state = initial.clone();
        // `Var`s stand for the model's outputs of the steps they name, along this order.
        let mut replay = crate::check::Replay::<M>::new();
        for (position, &h) in order.iter().enumerate() {
            // An order the checker found binds every var; a hand-made one may not, and the
            // states after it would be made up.
            let Some(says) = replay.step(history, h, &mut state) else {
                break;
            };
            if shown[h] {
                marks[h] = Mark {
                    position: Some(position + 1),
                    state_after: Some(clip(&format!("{state:?}"), STATE_TEXT)),
                    says: Some(format!("{says:?}")),
                };
            }
        }
    }
    let estimate = estimate_bytes(history, &shown, &marks);
    if estimate > options.max_page_bytes {
        return Err(PageTooLarge {
            estimate,
            cap: options.max_page_bytes,
            ops: drawn,
        });
    }
    let initial_state = clip(&format!("{initial:?}"), STATE_TEXT);

    let mut body = String::from("<div class=\"page\">\n");
    header(&mut body, history, report, &parts, violation, title);
    if let Some(note) = window_note {
        let _ = writeln!(
            body,
            "<p class=\"summary\" id=\"window-note\">{}</p>",
            esc(&note)
        );
    }
    body.push_str("<main>\n");
    for (p, part) in parts.iter().enumerate() {
        let status = match (&report.verdict, violation) {
            (_, Some((vp, v))) if vp == p => Status::Violating(v),
            (_, Some(_)) => Status::NotReached,
            (Verdict::Holds, None) if orders[p].is_some() => Status::Linearized,
            (Verdict::Unknown(_), None) => Status::GaveUp,
            _ => Status::NotReached,
        };
        if part.ops.is_empty() {
            continue;
        }
        let order: Vec<usize> = orders[p]
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|&h| shown[h])
            .collect();
        let section = layout::Section {
            index: p,
            key: &part.key,
            alone: parts.len() == 1,
            ops: &part.ops,
            order: &order,
            status,
            initial_state: &initial_state,
        };
        section.write(&mut body, history, &marks);
    }
    body.push_str("</main>\n</div>\n");

    let (head, rest) = TEMPLATE
        .split_once("<!--title-->")
        .expect("template has a title");
    let (middle, tail) = rest.split_once("<!--body-->").expect("template has a body");
    let mut page = String::with_capacity(TEMPLATE.len() + body.len() + title.len());
    page.push_str(head);
    page.push_str(&esc(title));
    page.push_str(middle);
    page.push_str(&body);
    page.push_str(tail);
    Ok(page)
}

/// Which operations a page draws: all when they are at most `max`; else the `max` nearest in
/// call order to `focus` (most of them before it: what led there), or the first `max`. And a
/// sentence saying what was left out.
fn window<Op, Out>(
    history: &History<Op, Out>,
    focus: Option<usize>,
    max: usize,
) -> (Vec<bool>, Option<String>) {
    let n = history.ops.len();
    if n <= max {
        return (vec![true; n], None);
    }
    let mut by_call: Vec<usize> = (0..n).collect();
    by_call.sort_by_key(|&h| (history.ops[h].call, h));
    let (start, around) = match focus.and_then(|f| by_call.iter().position(|&h| h == f)) {
        Some(at) => {
            let start = at.saturating_sub(max - max / 4).min(n - max);
            (start, true)
        }
        None => (0, false),
    };
    let mut shown = vec![false; n];
    for &h in &by_call[start..start + max] {
        shown[h] = true;
    }
    let (first, last) = (by_call[start], by_call[start + max - 1]);
    let place = |h: usize| match history.source(h).and_then(|s| s.lines()) {
        Some(lines) => format!("operation #{h}, {lines}"),
        None => format!("operation #{h}"),
    };
    let note = format!(
        "Showing {max} of {n} operations{}: from {} to {}, in order of invocation. {} earlier and \
         {} later ones are left out (stateprop render --max-ops N draws more).",
        if around {
            ", those around the operation that cannot be placed"
        } else {
            ", the first ones"
        },
        place(first),
        place(last),
        start,
        n - start - max
    );
    (shown, Some(note))
}

/// About how many bytes the page takes: each bar's markup, its texts written three times
/// (attributes, tooltip, label) and its state twice.
fn estimate_bytes<Op: Debug, Out: Debug>(
    history: &History<Op, Out>,
    shown: &[bool],
    marks: &[Mark],
) -> u64 {
    let mut bytes = TEMPLATE.len() as u64;
    for (h, o) in history.ops.iter().enumerate().filter(|(h, _)| shown[*h]) {
        let text = format!("{:?}", o.op).len()
            + o.output.as_ref().map_or(0, |out| format!("{out:?}").len());
        let state = marks[h].state_after.as_ref().map_or(0, String::len);
        bytes += 900 + 3 * text as u64 + 2 * state as u64;
    }
    bytes
}

/// What the page knows about a linearized operation.
#[derive(Clone, Default)]
struct Mark {
    /// Position in its partition's (partial) linearization, from 1.
    position: Option<usize>,
    /// The model's state after it (`Debug`, clipped).
    state_after: Option<String>,
    /// What the model returns for it there (`Debug`).
    says: Option<String>,
}

/// How much of a partition the report explains.
#[derive(Clone, Copy)]
enum Status<'r> {
    /// Its whole linearization is known.
    Linearized,
    /// It holds the violation.
    Violating(&'r Violation),
    /// The checker stopped at another partition's violation first.
    NotReached,
    /// The checker ran out of budget.
    GaveUp,
}

/// One partition: its key (`Debug`) and its operations (history indices, in history order).
struct Part {
    key: String,
    ops: Vec<usize>,
}

/// Splits the history as the checker does: partitions in order of first appearance.
fn split<Op, Out, K, P>(history: &History<Op, Out>, partition: &P) -> (Vec<Part>, Vec<usize>)
where
    K: Hash + Eq + Debug,
    P: Fn(&Op) -> K,
{
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut part_of = Vec::with_capacity(history.ops.len());
    for (h, op) in history.ops.iter().enumerate() {
        let key = partition(&op.op);
        let p = match index.get(&key) {
            Some(&p) => p,
            None => {
                parts.push(Part {
                    key: format!("{key:?}"),
                    ops: Vec::new(),
                });
                index.insert(key, parts.len() - 1);
                parts.len() - 1
            }
        };
        parts[p].ops.push(h);
        part_of.push(p);
    }
    (parts, part_of)
}

/// Title, verdict, counts, the violation in one sentence, and the legend.
fn header<Op: Debug, Out: Debug>(
    out: &mut String,
    history: &History<Op, Out>,
    report: &Report,
    parts: &[Part],
    violation: Option<(usize, &Violation)>,
    title: &str,
) {
    let mut clients: Vec<u64> = history.ops.iter().map(|o| o.client).collect();
    clients.sort_unstable();
    clients.dedup();
    let unknown = history.ops.iter().filter(|o| o.is_unknown()).count();
    let (class, verdict) = match &report.verdict {
        Verdict::Holds => ("ok", "linearizable".to_string()),
        Verdict::Violated(_) => ("bad", "NOT linearizable".to_string()),
        Verdict::Unknown(reason) => ("unknown", format!("unknown: {reason}")),
    };
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<div class=\"verdict-line\"><span class=\"verdict {class}\" \
         id=\"verdict\">{}</span>",
        esc(title),
        esc(&verdict)
    );
    let _ = writeln!(
        out,
        "<span class=\"counts\">{} · {} · {} · {} with unknown outcome · {} search steps</span></div>",
        plural(history.ops.len(), "operation"),
        plural(clients.len(), "client"),
        plural(parts.len(), "partition"),
        unknown,
        report.steps
    );
    match (&report.verdict, violation) {
        (Verdict::Violated(_), Some((p, v))) => {
            let _ = writeln!(
                out,
                "<p class=\"summary\">No order of the operations that respects real time matches \
                 the model{}. <a href=\"#impossible-op\">Operation #{}</a>{} is the one that \
                 cannot be placed.</p>",
                if parts.len() > 1 {
                    format!(" in partition <code>{}</code>", esc(&parts[p].key))
                } else {
                    String::new()
                },
                v.blocked,
                history
                    .source(v.blocked)
                    .and_then(|s| s.lines())
                    .map_or(String::new(), |l| format!(" ({})", esc(&l)))
            );
        }
        (Verdict::Violated(v), None) => {
            let _ = writeln!(
                out,
                "<p class=\"summary\">The report names operation #{} (of {}), which this history \
                 does not have: was it made from another history?</p>",
                v.blocked,
                history.ops.len()
            );
        }
        (Verdict::Unknown(_), _) => out.push_str(
            "<p class=\"summary\">The checker gave up before deciding; no order is shown.</p>\n",
        ),
        (Verdict::Holds, _) => out.push_str(
            "<p class=\"summary\">Each operation is numbered with its place in an order that \
             respects real time and matches the model; hover one for the model's state.</p>\n",
        ),
    }
    out.push_str(
        "<div class=\"legend\"><span><i class=\"sw lin\">1</i>linearized, numbered in order</span>\
         <span><i class=\"sw unplaced\"></i>not placed</span>\
         <span><i class=\"sw unknown\"></i>unknown outcome (open: never returned)</span>\
         <span><i class=\"sw impossible\">✕</i>cannot be placed</span>\
         <span><i class=\"sw line\"></i>linearization points</span>\
         <span class=\"axis-note\">x axis: event order, not to scale</span></div>\n</header>\n",
    );
}

/// The sentence a violation comes down to, values passed through `value` (HTML or plain).
fn explanation(v: &Violation, value: fn(&str) -> String) -> String {
    let after = plural(v.linearized.len(), "operation");
    match (&v.expected, &v.actual) {
        (Some(expected), Some(actual)) => format!(
            "cannot be placed after {after}: in state {} the model says {}, it returned {}",
            value(&v.state),
            value(expected),
            value(actual)
        ),
        _ => format!(
            "cannot be placed after {after}: it does not fit in state {}",
            value(&v.state)
        ),
    }
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(&clip(text, STATE_TEXT)))
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Escapes text for HTML content and quoted attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{clip, esc};

    #[test]
    fn escaping_and_clipping() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("héllo", 5), "héllo");
    }
}
