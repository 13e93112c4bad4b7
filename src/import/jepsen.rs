//! Jepsen's EDN histories: one map per event, either as one vector (or list) of maps or one map
//! per line, as Jepsen's `history.edn` and Porcupine's kv logs are written.

use super::builder::{Builder, Open};
use super::edn::{self, Form, Value};
use super::text::strip_bom;
use super::{Format, ImportError};
use crate::history::History;
use crate::models::{KvOp, KvOut, RegisterOp, RegisterOut};

/// Reads a Jepsen `history.edn` of a compare-and-set register, for
/// [`CasRegister`](crate::models::CasRegister).
///
/// Events are maps with `:process` (a number; `:nemesis` events are skipped), `:type`
/// (`:invoke`, `:ok`, `:fail`, `:info`), `:f` (`:read`, `:write`, `:cas`) and `:value` (`nil`, an
/// integer, or `[from to]` for a cas); other keys (`:time`, `:index`, `:error`, …) are ignored. The
/// input is one EDN vector of maps or one map per line (tagged records such as
/// `#jepsen.history.Op{…}` read as their maps). A read's value comes from its `:ok`; `:fail` drops
/// the operation (a failed cas did not happen either); `:info` leaves it unknown. The time of an
/// event is its position among the events.
pub fn jepsen_edn_register(text: &str) -> Result<History<RegisterOp, RegisterOut>, ImportError> {
    import::<Register>(text)
}

/// Reads a key-value history in EDN (Porcupine's kv logs, Jepsen get/put/append histories), for
/// [`KvModel`](crate::models::KvModel).
///
/// Events are maps as in [`jepsen_edn_register`], with `:f` one of `:get`, `:put`, `:append`,
/// `:delete`, a `:key` (a string; an integer key reads as its decimal text) and a `:value`: the
/// string to put or append, and on a get's `:ok` the value read (`nil` reads as `""`, the value of
/// a key never written). Puts, appends and deletes return [`KvOut::Done`]. `:fail` drops the
/// operation, `:info` leaves it unknown.
pub fn kv_edn(text: &str) -> Result<History<KvOp, KvOut>, ImportError> {
    import::<Kv>(text)
}

/// Reads a history of a plain register (read and write, no compare-and-set) in any `format`, for
/// [`CasRegister`](crate::models::CasRegister) used as a plain register.
///
/// It reads as [`etcd`](super::etcd), [`jepsen_edn_register`] or [`json`](super::json) do, and
/// refuses the first compare-and-set invocation with its line: checked against a plain
/// register, a history that uses compare-and-set is a mistake of the model chosen, not of the
/// history.
pub fn plain_register(
    format: Format,
    text: &str,
) -> Result<History<RegisterOp, RegisterOut>, ImportError> {
    match format {
        Format::Json => super::json::json_checked(text, |op: &RegisterOp| match op {
            RegisterOp::Cas { .. } => Err(cas_on_plain_register(&format!("{op:?}"))),
            _ => Ok(()),
        }),
        Format::Jepsen => super::etcd::etcd_as::<PlainRegister>(text),
        Format::Edn => import::<PlainRegister>(text),
    }
}

fn cas_on_plain_register(what: &str) -> String {
    format!(
        "`{what}` is a compare-and-set, which a plain register has not (it reads and writes \
         only): check the history against a compare-and-set register (--model cas-register)"
    )
}

/// What every event says, whatever the format it came from.
pub(crate) struct Event<'a> {
    pub line: usize,
    pub time: u64,
    pub process: u64,
    pub kind: Kind,
    /// The `:f`, without its colon.
    pub f: &'a str,
    /// The `:value` (`nil` when absent).
    pub value: &'a Value,
    /// The `:key`, when present.
    pub key: Option<&'a Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl Kind {
    pub(crate) fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "invoke" => Kind::Invoke,
            "ok" => Kind::Ok,
            "fail" => Kind::Fail,
            "info" => Kind::Info,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Invoke => ":invoke",
            Kind::Ok => ":ok",
            Kind::Fail => ":fail",
            Kind::Info => ":info",
        }
    }
}

static NIL: Value = Value::Nil;

/// How one kind of object reads its operations and outputs from events.
pub(crate) trait Spec {
    type Op;
    type Out;
    /// The operation an `:invoke` opens.
    fn invocation(event: &Event<'_>) -> Result<Self::Op, String>;
    /// The `:f` of `op`, without its colon (completions must repeat it).
    fn f(op: &Self::Op) -> &'static str;
    /// The output an `:ok` gives `op`.
    fn output(op: &Self::Op, event: &Event<'_>) -> Result<Self::Out, String>;
    /// The event in the input's syntax, for messages: `:write 3`.
    fn describe(event: &Event<'_>) -> String {
        format!(":{} {}", event.f, event.value.describe())
    }
}

/// Reads a Jepsen EDN history of the object `S`, one event at a time.
pub(crate) fn import<S: Spec>(text: &str) -> Result<History<S::Op, S::Out>, ImportError> {
    let mut events = edn::Events::new(strip_bom(text));
    // Every operation has one invocation event (an overcount, should `:invoke` occur in a value,
    // costs only spare capacity).
    let invocations = text.matches(":invoke").count();
    let mut builder = Builder::with_capacity(invocations);
    let mut index = 0u64;
    while let Some(form) = events.next_form()? {
        if let Some(event) = read_event(&form, index)? {
            apply::<S>(&mut builder, &event)?;
            // Jepsen's `:time` (nanoseconds since the test began), shown in explanations.
            if let Some(Value::Int(t)) = form.get("time").map(|f| &f.value) {
                builder.written_time(event.kind == Kind::Invoke, t.to_string());
            }
        }
        index += 1;
    }
    Ok(builder.finish())
}

/// The fields of an event map; `None` for a nemesis event.
fn read_event(form: &Form, time: u64) -> Result<Option<Event<'_>>, ImportError> {
    let line = form.line;
    let error = |message: String| ImportError::new(line, message);
    if !matches!(form.value, Value::Map(_)) {
        let hint = match form.value {
            Value::Vector(_) | Value::List(_) => {
                " (a history is one vector of event maps, or one event map per line)"
            }
            _ => "",
        };
        return Err(error(format!(
            "expected an event map {{:process …, :type …, :f …, :value …}}, found {}{hint}",
            form.value.describe()
        )));
    }
    let process = match form.get("process").map(|f| &f.value) {
        None => return Err(error("event has no :process".into())),
        Some(Value::Keyword(k)) if k == "nemesis" => return Ok(None),
        // The same range as the etcd logs and JSON (`u64`): a reader must not refuse a process
        // id another accepts.
        Some(Value::Int(p)) if u64::try_from(*p).is_ok() => *p as u64,
        Some(other) => {
            return Err(error(format!(
                "bad :process {}: expected a process number (0 to {}) or :nemesis",
                other.describe(),
                u64::MAX
            )))
        }
    };
    let kind = match form.get("type").map(|f| &f.value) {
        None => {
            return Err(error(
                "event has no :type (expected :invoke, :ok, :fail or :info)".into(),
            ))
        }
        Some(value) => value.as_keyword().and_then(Kind::parse).ok_or_else(|| {
            error(format!(
                "unknown :type {} (expected :invoke, :ok, :fail or :info)",
                value.describe()
            ))
        })?,
    };
    let f = match form.get("f").map(|f| &f.value) {
        None => return Err(error("event has no :f (the operation's name)".into())),
        Some(value) => value.as_keyword().ok_or_else(|| {
            error(format!(
                "bad :f {}: expected a keyword such as :read",
                value.describe()
            ))
        })?,
    };
    Ok(Some(Event {
        line,
        time,
        process,
        kind,
        f,
        value: form.get("value").map_or(&NIL, |f| &f.value),
        key: form.get("key").map(|f| &f.value),
    }))
}

/// Applies one event with Jepsen's meaning of its type.
fn apply<S: Spec>(
    builder: &mut Builder<S::Op, S::Out>,
    event: &Event<'_>,
) -> Result<(), ImportError> {
    if event.kind == Kind::Invoke {
        let op = S::invocation(event).map_err(|m| ImportError::new(event.line, m))?;
        return builder.invoke(
            event.process,
            op,
            S::describe(event),
            event.time,
            event.line,
        );
    }
    let open = complete::<S>(builder, event)?;
    match event.kind {
        Kind::Ok => {
            let output = S::output(builder.op(open.index), event)
                .map_err(|m| completion_error(event, &open, m))?;
            builder.returned(open.index, event.time, Some(output));
        }
        Kind::Fail => builder.drop_op(open.index),
        // Unknown: it may take effect at any time after its invocation, so it never returns.
        Kind::Info | Kind::Invoke => {}
    }
    Ok(())
}

/// Closes the process's open operation, checking the completion names the same `:f`.
pub(crate) fn complete<S: Spec>(
    builder: &mut Builder<S::Op, S::Out>,
    event: &Event<'_>,
) -> Result<Open, ImportError> {
    let what = format!("{} {}", event.kind.name(), S::describe(event));
    let open = builder.complete(event.process, &what, event.line)?;
    let invoked = S::f(builder.op(open.index));
    if invoked != event.f {
        return Err(completion_error(
            event,
            &open,
            format!("it says :f :{}, the invocation :{invoked}", event.f),
        ));
    }
    Ok(open)
}

/// A completion that contradicts its invocation.
pub(crate) fn completion_error(event: &Event<'_>, open: &Open, problem: String) -> ImportError {
    ImportError::new(
        event.line,
        format!(
            "{} of process {}'s `{}` (line {}): {problem}",
            event.kind.name(),
            event.process,
            open.what,
            open.line
        ),
    )
}

/// A compare-and-set register.
pub(crate) struct Register;

impl Spec for Register {
    type Op = RegisterOp;
    type Out = RegisterOut;

    fn invocation(event: &Event<'_>) -> Result<RegisterOp, String> {
        match event.f {
            "read" => Ok(RegisterOp::Read),
            "write" => match int64(event.value) {
                Some(value) => Ok(RegisterOp::Write { value }),
                None => Err(format!(
                    "a :write needs an integer :value, found {} (64-bit signed)",
                    event.value.describe()
                )),
            },
            "cas" => cas_value(event.value)
                .map(|(from, to)| RegisterOp::Cas { from, to })
                .ok_or_else(|| {
                    format!(
                        "a :cas needs a :value [from to] of two integers, found {} (64-bit signed)",
                        event.value.describe()
                    )
                }),
            other => Err(format!(
                "unknown :f :{other} for a register (expected :read, :write or :cas)"
            )),
        }
    }

    fn f(op: &RegisterOp) -> &'static str {
        match op {
            RegisterOp::Read => "read",
            RegisterOp::Write { .. } => "write",
            RegisterOp::Cas { .. } => "cas",
        }
    }

    fn output(op: &RegisterOp, event: &Event<'_>) -> Result<RegisterOut, String> {
        match op {
            RegisterOp::Read => match (event.value, int64(event.value)) {
                (Value::Nil, _) => Ok(RegisterOut::Value(None)),
                (_, Some(v)) => Ok(RegisterOut::Value(Some(v))),
                (other, None) => Err(format!(
                    "a read's value must be nil or an integer, found {} (64-bit signed)",
                    other.describe()
                )),
            },
            RegisterOp::Write { .. } => {
                register_echo(op, event)?;
                Ok(RegisterOut::Written)
            }
            RegisterOp::Cas { .. } => {
                register_echo(op, event)?;
                Ok(RegisterOut::Cas(true))
            }
        }
    }
}

/// A register's value: an integer that fits the model's `i64`.
fn int64(value: &Value) -> Option<i64> {
    match value {
        Value::Int(v) => i64::try_from(*v).ok(),
        _ => None,
    }
}

/// A register that refuses compare-and-set (see [`plain_register`]).
pub(crate) struct PlainRegister;

impl Spec for PlainRegister {
    type Op = RegisterOp;
    type Out = RegisterOut;

    fn invocation(event: &Event<'_>) -> Result<RegisterOp, String> {
        match Register::invocation(event)? {
            RegisterOp::Cas { .. } => Err(cas_on_plain_register(&Register::describe(event))),
            op => Ok(op),
        }
    }

    fn f(op: &RegisterOp) -> &'static str {
        Register::f(op)
    }

    fn output(op: &RegisterOp, event: &Event<'_>) -> Result<RegisterOut, String> {
        Register::output(op, event)
    }
}

/// `[from to]`.
fn cas_value(value: &Value) -> Option<(i64, i64)> {
    match value {
        Value::Vector(items) | Value::List(items) => match items.as_slice() {
            [from, to] => Some((int64(&from.value)?, int64(&to.value)?)),
            _ => None,
        },
        _ => None,
    }
}

/// A completion of a write or cas repeats the invoked value.
pub(crate) fn register_echo(op: &RegisterOp, event: &Event<'_>) -> Result<(), String> {
    let same = match *op {
        RegisterOp::Read => true,
        RegisterOp::Write { value } => int64(event.value) == Some(value),
        RegisterOp::Cas { from, to } => cas_value(event.value) == Some((from, to)),
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "its :value {} differs from the invocation's",
            event.value.describe()
        ))
    }
}

/// A key-value store.
struct Kv;

impl Kv {
    fn key(event: &Event<'_>) -> Result<String, String> {
        match event.key {
            Some(Value::Str(key)) => Ok(key.clone()),
            Some(Value::Int(key)) => Ok(key.to_string()),
            Some(other) => Err(format!("bad :key {}: expected a string", other.describe())),
            None => Err(format!("a :{} event needs a :key", event.f)),
        }
    }

    fn string(event: &Event<'_>) -> Result<String, String> {
        match event.value {
            Value::Str(value) => Ok(value.clone()),
            other => Err(format!(
                "a :{} needs a string :value, found {}",
                event.f,
                other.describe()
            )),
        }
    }
}

impl Spec for Kv {
    type Op = KvOp;
    type Out = KvOut;

    fn invocation(event: &Event<'_>) -> Result<KvOp, String> {
        if !matches!(event.f, "get" | "put" | "append" | "delete") {
            return Err(format!(
                "unknown :f :{} for a key-value store (expected :get, :put, :append or :delete)",
                event.f
            ));
        }
        let key = Kv::key(event)?;
        Ok(match event.f {
            "get" => KvOp::Get { key },
            "put" => KvOp::Put {
                key,
                value: Kv::string(event)?,
            },
            "append" => KvOp::Append {
                key,
                value: Kv::string(event)?,
            },
            _ => KvOp::Delete { key },
        })
    }

    fn f(op: &KvOp) -> &'static str {
        match op {
            KvOp::Get { .. } => "get",
            KvOp::Put { .. } => "put",
            KvOp::Append { .. } => "append",
            KvOp::Delete { .. } => "delete",
        }
    }

    fn output(op: &KvOp, event: &Event<'_>) -> Result<KvOut, String> {
        if event.key.is_some() && Kv::key(event)? != op.key() {
            return Err(format!(
                "its :key {} differs from the invocation's",
                event.key.map_or(String::new(), |k| k.describe())
            ));
        }
        match op {
            KvOp::Get { .. } => match event.value {
                Value::Nil => Ok(KvOut::Value(String::new())),
                Value::Str(value) => Ok(KvOut::Value(value.clone())),
                other => Err(format!(
                    "a get's value must be a string or nil, found {}",
                    other.describe()
                )),
            },
            KvOp::Put { value, .. } | KvOp::Append { value, .. } => {
                if *event.value == Value::Str(value.clone()) {
                    Ok(KvOut::Done)
                } else {
                    Err(format!(
                        "its :value {} differs from the invocation's",
                        event.value.describe()
                    ))
                }
            }
            KvOp::Delete { .. } => Ok(KvOut::Done),
        }
    }

    fn describe(event: &Event<'_>) -> String {
        match event.key {
            Some(key) => format!(":{} {} {}", event.f, key.describe(), event.value.describe()),
            None => format!(":{} {}", event.f, event.value.describe()),
        }
    }
}
