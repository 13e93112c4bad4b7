//! The JSON report (schema in docs/report-schema.md).

use super::{Origin, Report, Shape};
use crate::failure::{FailureKind, HistoryViolation};
use serde_json::{json, Value};

impl Report {
    /// The report as JSON: `verdict`, `seed`, `minimal`, `failure`, `stats`, `shrink`.
    pub fn json(&self) -> Value {
        let failure = self.failure.as_ref().map(|f| {
            let mut v = json!({
                "kind": f.kind.name(),
                "step": f.step.map(step_json),
                "op": f.op,
                "message": f.cause_in(&self.minimal_rust),
            });
            if let Some(involved) = f.kind.involved() {
                v["involved"] = json!(involved.into_iter().map(step_json).collect::<Vec<_>>());
            }
            history_failure_json(&f.kind, &mut v);
            if let FailureKind::Postcondition { expected, actual } = &f.kind {
                v["expected"] = json!(expected);
                v["actual"] = json!(actual);
            }
            v
        });
        let steps = |json: &[Value], rust: &[String]| -> Vec<Value> {
            json.iter()
                .zip(rust)
                .map(|(op, rust)| json!({ "op": op, "rust": rust }))
                .collect()
        };
        let (json_program, rust_program) = (&self.minimal_json, &self.minimal_rust);
        let prefix = steps(&json_program.prefix, &rust_program.prefix);
        // A sequential program stays a flat list, as readers of schema 1 expect.
        let minimal = self.failure.as_ref().map(|_| match self.shape() {
            Shape::Sequential => json!(prefix),
            _ => {
                let branches: Vec<Vec<Value>> = json_program
                    .branches
                    .iter()
                    .zip(&rust_program.branches)
                    .map(|(json, rust)| steps(json, rust))
                    .collect();
                json!({ "prefix": prefix, "branches": branches })
            }
        });
        let origin = match &self.origin {
            Some(Origin::Generated { case, case_seed }) => {
                json!({ "generated": { "case": case, "case_seed": case_seed } })
            }
            Some(Origin::Saved { location }) => json!({ "saved": location }),
            Some(Origin::Replay) => json!("replay"),
            Some(Origin::Stress { seed, operation }) => {
                json!({ "stress": { "seed": seed, "operation": operation } })
            }
            Some(Origin::StressConcurrent {
                seed,
                operation,
                threads,
            }) => json!({ "stress_concurrent": {
                "seed": seed,
                "operation": operation,
                "threads": threads,
                "seed_replays": false,
            } }),
            None => Value::Null,
        };
        let rules: serde_json::Map<String, Value> = self
            .stats
            .rules
            .iter()
            .map(|(name, n)| (name.to_string(), json!(n)))
            .collect();
        json!({
            "schema": "stateprop-report/1",
            "shape": self.shape().as_str(),
            "test": self.test,
            "verdict": self.verdict.as_str(),
            "seed": self.seed,
            "failure": failure,
            "minimal": minimal,
            "origin": origin,
            "stats": {
                "cases": self.stats.cases,
                "steps": self.stats.steps,
                "rules": rules,
                "replayed": self.stats.replayed,
                "enabled": self.stats.enabled.iter().map(|(name, n)| (name.to_string(), json!(n))).collect::<serde_json::Map<String, Value>>(),
                "lengths": self.stats.lengths.iter().map(|(len, n)| (len.to_string(), json!(n))).collect::<serde_json::Map<String, Value>>(),
                "labels": self.stats.labels.iter().map(|(label, n)| json!({ "label": label, "cases": n })).collect::<Vec<_>>(),
                "time_ms": self.stats.time.as_millis() as u64,
                "undecided": self.stats.undecided.iter().map(|u| json!({
                    "judge": u.judge,
                    "reason": u.reason,
                    "histories": u.histories,
                })).collect::<Vec<_>>(),
            },
            "shrink": {
                "runs": self.shrink.runs,
                "skipped": self.shrink.skipped,
                "steps_before": self.shrink.steps_before,
                "steps_after": self.shrink.steps_after,
                "budget_exhausted": self.shrink.budget_exhausted,
                "failures": self.shrink.failures,
                "time_ms": self.shrink.time.as_millis() as u64,
            },
            "warnings": self.warnings(),
            "note": self.note,
            "reproduction": self.reproduction.map(|(failed, runs)| json!({ "failed": failed, "runs": runs })),
            "saved_to": self.saved_to,
            "pasteable_test": self.failure.as_ref().map(|_| self.pasteable_test()),
            "timeline": (!self.timeline.is_empty()).then_some(&self.timeline),
            "sim": self.sim.as_ref().map(sim_json),
            "history": self.history.as_ref().map(|ops| ops.iter().map(|op| json!({
                "step": step_json(op.step),
                "client": op.client,
                "op": op.op,
                "output": op.output,
                "call": op.call,
                "ret": op.ret,
            })).collect::<Vec<_>>()),
        })
    }
}

/// Events the JSON report keeps at most: a run that never quiets down (a heartbeat through
/// a long liveness tail) would otherwise make the report as long as the tail.
pub(crate) const MAX_SIM_EVENTS: usize = 20_000;

/// A simulated run's events: `nodes`, `events` (the first [`MAX_SIM_EVENTS`]) and how many
/// were `left_out`.
fn sim_json(run: &super::SimRun) -> Value {
    let events: Vec<Value> = run
        .events
        .iter()
        .take(MAX_SIM_EVENTS)
        .map(|e| {
            let mut v = json!({
                "time": e.time,
                "kind": e.kind.as_str(),
                "node": e.node,
                "step": e.step,
                "text": e.text,
            });
            // Fields that only some kinds have are left out where absent, to keep a long
            // run's report short.
            for (name, value) in [
                ("peer", e.peer.map(u64::from)),
                ("message", e.message),
                ("original", e.original),
                ("arrives", e.arrives),
                ("client", e.client),
                ("request", e.request),
            ] {
                if let Some(value) = value {
                    v[name] = json!(value);
                }
            }
            v
        })
        .collect();
    json!({
        "nodes": run.nodes,
        "events": events,
        "left_out": run.events.len().saturating_sub(MAX_SIM_EVENTS),
    })
}

/// A step id as the report writes it: a bare number for a prefix step (as schema 1 did), an
/// object `{"branch", "index"}` for a branch step.
fn step_json(id: crate::program::StepId) -> Value {
    match id.branch {
        None => json!(id.index),
        Some(branch) => json!({ "branch": branch, "index": id.index }),
    }
}

/// The fields of a history judge's violation, beside `involved`.
fn history_failure_json(kind: &FailureKind, v: &mut Value) {
    let FailureKind::History(violation) = kind else {
        return;
    };
    match &**violation {
        HistoryViolation::NotLinearizable {
            partition,
            linearized,
            blocked,
            state,
            expected,
            actual,
        } => {
            v["partition"] = json!(partition);
            v["linearized"] = json!(linearized
                .iter()
                .copied()
                .map(step_json)
                .collect::<Vec<_>>());
            v["blocked"] = step_json(*blocked);
            v["state"] = json!(state);
            v["expected"] = json!(expected);
            v["actual"] = json!(actual);
        }
        HistoryViolation::NotSequentiallyConsistent {
            ordered,
            blocked,
            state,
        } => {
            v["ordered"] = json!(ordered.iter().copied().map(step_json).collect::<Vec<_>>());
            v["blocked"] = json!(blocked.iter().copied().map(step_json).collect::<Vec<_>>());
            v["state"] = json!(state);
        }
        HistoryViolation::SessionGuarantee {
            guarantee,
            session,
            earlier,
            later,
            others,
            ..
        } => {
            v["guarantee"] = json!(guarantee.to_string());
            v["session"] = json!(session);
            v["earlier"] = step_json(*earlier);
            v["later"] = step_json(*later);
            v["others"] = json!(others);
        }
        HistoryViolation::NotIdempotent {
            problem, request, ..
        } => {
            v["problem"] = json!(format!("{problem:?}"));
            v["request"] = json!(request);
        }
    }
}
