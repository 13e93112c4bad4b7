//! `Var<T>`: a symbolic reference to the value an earlier step returned.

use crate::program::{Outputs, StepId};
use std::fmt;
use std::hash::{Hash, Hasher};

/// A reference to the result of an earlier step: an id, a handle, a file descriptor.
///
/// A program cannot know the handle a real system will hand out, so an operation that needs one
/// holds a `Var<T>` naming the step that returned it. Before an operation runs, the runner binds
/// each `Var` to that step's output: the model sees the value *its* step returned, the system
/// under test the value the *system* returned. Read it with [`Var::get`] or `*var`.
///
/// A `Var<T>` field is never given a strategy: the generator picks one of the earlier steps whose
/// output holds a `T` (see [`FromOutput`]), and a rule whose `Var` fields have no such step is not
/// enabled. A rule precondition over the var (`|m: &Files, fd: &Var<Fd>| m.is_open(fd)`) narrows
/// the choice to the results it admits; it sees the candidate bound, and its step in
/// [`id`](Var::id), so a model can retire a closed handle by its step even when its number is
/// reused. `#[consumes]` on a `Var` field does that without the model: once a step holding it
/// ran, no later step names that result (see [`Consumed`](crate::Consumed)). The shrinker
/// renumbers vars when it deletes steps and drops steps whose var would dangle or name a used-up
/// result, so every shrunk program stays well formed.
///
/// A var names a [`StepId`]: a step of the prefix (in a sequential program, any earlier step) or
/// an earlier step of the var's own branch.
pub struct Var<T> {
    id: StepId,
    value: Option<T>,
}

impl<T> Var<T> {
    /// A reference to the output of prefix step `step` (0-based), as printed in reports; in a
    /// sequential program, step `step`.
    ///
    /// # Panics
    /// If `step` does not fit in a `u32`.
    pub fn at(step: usize) -> Self {
        Var::to(StepId::prefix(step))
    }

    /// A reference to the output of step `index` (0-based) of branch `branch`, as printed in
    /// reports.
    ///
    /// # Panics
    /// If `index` does not fit in a `u32`.
    pub fn in_branch(branch: u16, index: usize) -> Self {
        Var::to(StepId::in_branch(branch, index))
    }

    /// A reference to the output of step `id`.
    pub fn to(id: StepId) -> Self {
        Var { id, value: None }
    }

    /// A var to `id` already bound to `value`: how generation offers a candidate to a
    /// precondition before choosing it.
    #[doc(hidden)]
    pub fn bound(id: StepId, value: T) -> Self {
        Var {
            id,
            value: Some(value),
        }
    }

    /// The step whose output this refers to.
    pub fn id(&self) -> StepId {
        self.id
    }

    /// The index of the step whose output this refers to, within its prefix or branch (see
    /// [`id`](Var::id) for which); for a sequential program, the step's number.
    pub fn step(&self) -> usize {
        self.id.index as usize
    }

    /// The bound value.
    ///
    /// # Panics
    /// If the var is not bound, which happens only outside a model step or `System::apply`.
    pub fn get(&self) -> &T {
        match &self.value {
            Some(value) => value,
            None => panic!(
                "stateprop: {self:?} read before it was bound; vars are bound only while the \
                 runner applies an operation"
            ),
        }
    }

    /// The bound value, if any.
    pub fn try_get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    #[doc(hidden)]
    #[inline]
    pub fn bind_from<O>(&mut self, outputs: &(impl Outputs<O> + ?Sized)) -> bool
    where
        T: FromOutput<O>,
    {
        match outputs.output(self.id).and_then(T::from_output) {
            Some(value) => {
                self.value = Some(value);
                true
            }
            None => false,
        }
    }

    #[doc(hidden)]
    pub fn remap(&mut self, map: &mut dyn FnMut(StepId) -> Option<StepId>) -> bool {
        match map(self.id) {
            Some(id) => {
                self.id = id;
                true
            }
            None => false,
        }
    }
}

impl<T> std::ops::Deref for Var<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

// The var's identity is its step; the bound value is a cache of that step's output.
impl<T: Clone> Clone for Var<T> {
    fn clone(&self) -> Self {
        Var {
            id: self.id,
            value: self.value.clone(),
        }
    }
}

impl<T> PartialEq for Var<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T> Eq for Var<T> {}

impl<T> Hash for Var<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl<T> PartialOrd for Var<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Var<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

// The constructor call that makes this var, so the `Debug` text and pasted tests agree.
impl<T> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id.branch {
            None => write!(f, "Var::at({})", self.id.index),
            Some(b) => write!(f, "Var::in_branch({b}, {})", self.id.index),
        }
    }
}

/// The JSON of a var: a prefix step is its bare index (the only form regression files held
/// before branches existed, so they keep loading), a branch step `{"branch": b, "index": i}`.
impl<T> serde::Serialize for Var<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self.id.branch {
            None => serializer.serialize_u32(self.id.index),
            Some(branch) => {
                let mut s = serializer.serialize_struct("Var", 2)?;
                s.serialize_field("branch", &branch)?;
                s.serialize_field("index", &self.id.index)?;
                s.end()
            }
        }
    }
}

impl<'de, T> serde::Deserialize<'de> for Var<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StepIdVisitor).map(Var::to)
    }
}

struct StepIdVisitor;

impl<'de> serde::de::Visitor<'de> for StepIdVisitor {
    type Value = StepId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a `Var`: a prefix step's index, or {"branch": b, "index": i}"#)
    }

    fn visit_u64<E: serde::de::Error>(self, index: u64) -> Result<StepId, E> {
        let index = u32::try_from(index)
            .map_err(|_| E::custom(format!("a `Var` step index {index} past u32::MAX")))?;
        Ok(StepId {
            branch: None,
            index,
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<StepId, A::Error> {
        use serde::de::Error;
        let (mut branch, mut index) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "branch" => branch = Some(map.next_value::<u16>()?),
                "index" => index = Some(map.next_value::<u32>()?),
                other => {
                    return Err(A::Error::custom(format!(
                        "unknown key `{other}` in a `Var`; expected `branch` and `index`"
                    )))
                }
            }
        }
        match (branch, index) {
            (Some(b), Some(index)) => Ok(StepId {
                branch: Some(b),
                index,
            }),
            (None, _) => Err(A::Error::missing_field("branch")),
            (_, None) => Err(A::Error::missing_field("index")),
        }
    }
}

/// Extracts a `T` from a step's output, so a `Var<T>` can refer to that step.
///
/// Implemented for `T` itself, `Option<T>` and `Result<T, E>`; implement it for an output enum:
///
/// ```
/// # use stateprop::FromOutput;
/// #[derive(Clone, Debug, PartialEq)]
/// struct AccountId(u32);
/// #[derive(Clone, Debug, PartialEq)]
/// enum BankOut { Opened(AccountId), Balance(u64), Rejected }
///
/// impl FromOutput<BankOut> for AccountId {
///     fn from_output(output: &BankOut) -> Option<Self> {
///         match output {
///             BankOut::Opened(id) => Some(id.clone()),
///             _ => None,
///         }
///     }
/// }
/// ```
pub trait FromOutput<O>: Sized {
    /// The `T` in `output`, if the step produced one.
    fn from_output(output: &O) -> Option<Self>;
}

impl<T: Clone> FromOutput<T> for T {
    fn from_output(output: &T) -> Option<T> {
        Some(output.clone())
    }
}

impl<T: Clone> FromOutput<Option<T>> for T {
    fn from_output(output: &Option<T>) -> Option<T> {
        output.clone()
    }
}

impl<T: Clone, E> FromOutput<Result<T, E>> for T {
    fn from_output(output: &Result<T, E>) -> Option<T> {
        output.as_ref().ok().cloned()
    }
}
