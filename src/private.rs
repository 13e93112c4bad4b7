//! What derived code reaches the runtime through. Not public API.
//!
//! Expansions name everything here by full path, so a user's own `Option`, `Result` or `serde`
//! cannot break them.

pub use crate::generate::strategy::{ArbitraryDefault, BoundaryDefault, DefaultFor};
pub use crate::generate::{
    ArgTree, FastArg, Follow, FollowKnown, FollowUnknown, Gen, Mismatch, SlowArg, TreeBox, Typed,
};
pub use crate::program::{Outputs, StepId};
pub use crate::spec::{
    Consumed, DebugFallback, FromOutput, Model, RuleInfo, RustFallback, RustWrap, StateMachine, Var,
};
pub use proptest;
pub use serde_json;
pub use std::boxed::Box;
pub use std::format;
pub use std::option::Option::{self, None, Some};
pub use std::result::Result::{self, Err, Ok};
pub use std::string::{String, ToString};
pub use std::vec::Vec;

/// Calls a precondition; the `Fn(&M)` bound lets `|m| ...` closures infer their argument type.
#[inline]
pub fn precondition<M, F: Fn(&M) -> bool>(f: F, model: &M) -> bool {
    f(model)
}

/// Tags a field's strategy with the field's type; the `Value = T` bound makes a strategy of the
/// wrong type fail at the user's strategy expression. Derived code then draws from it with
/// `(&&&typed).draw_arg(gen, field)` (see `spec/draw.rs`).
#[inline]
pub fn arg<M, T, S>(_gen: &Gen<'_, M>, _field: &str, strategy: S) -> Typed<S, T>
where
    M: Model,
    S: proptest::strategy::Strategy<Value = T>,
{
    Typed(strategy, std::marker::PhantomData)
}

/// A field as JSON; a value serde cannot write becomes a string saying so.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value)
        .unwrap_or_else(|e| serde_json::Value::String(format!("<not serializable: {e}>")))
}

/// A named field of a JSON object, read as `T`.
pub fn field_from_json<T: serde::de::DeserializeOwned>(
    object: &serde_json::Map<String, serde_json::Value>,
    rule: &str,
    field: &str,
) -> Result<T, String> {
    let value = object
        .get(field)
        .ok_or_else(|| format!("`{rule}` has no field `{field}`"))?;
    serde_json::from_value(value.clone()).map_err(|e| format!("`{rule}.{field}`: {e}"))
}

/// A JSON value read as `T` (positional fields of tuple variants).
pub fn from_json<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    rule: &str,
    position: usize,
) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("`{rule}.{position}`: {e}"))
}

/// Splits serde's externally tagged enum form into (variant name, payload).
pub fn split_tagged(
    value: &serde_json::Value,
) -> Result<(&str, Option<&serde_json::Value>), String> {
    match value {
        serde_json::Value::String(name) => Ok((name.as_str(), None)),
        serde_json::Value::Object(map) if map.len() == 1 => {
            let (name, payload) = map.iter().next().expect("one entry");
            Ok((name.as_str(), Some(payload)))
        }
        other => Err(format!(
            "an operation is a variant name or an object with one key, found {other}"
        )),
    }
}
