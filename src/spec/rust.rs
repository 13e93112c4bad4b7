//! Printing values as Rust source, so a failing program can be pasted as a test.

use super::Var;
use std::fmt::Debug;

/// A value written as a Rust expression that rebuilds it.
///
/// Implemented for the primitives, `String`, `Vec`, `Option`, `Box`, tuples, arrays and
/// [`Var`]. Other field types fall back to their `Debug` output, which is valid Rust for plain
/// structs and enums when their names are in scope; implement this trait where it is not.
pub trait ToRust {
    /// The expression.
    fn to_rust(&self) -> String;
}

macro_rules! debug_is_rust {
    ($($t:ty),*) => {$(
        impl ToRust for $t {
            fn to_rust(&self) -> String { format!("{:?}", self) }
        }
    )*};
}
debug_is_rust!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    char,
    &str,
    ()
);

macro_rules! float_to_rust {
    ($($t:ident),*) => {$(
        impl ToRust for $t {
            fn to_rust(&self) -> String {
                if self.is_nan() {
                    concat!(stringify!($t), "::NAN").to_string()
                } else if self.is_infinite() {
                    let sign = if *self > 0.0 { "" } else { "-" };
                    format!(concat!("{}", stringify!($t), "::INFINITY"), sign)
                } else {
                    format!("{:?}", self)
                }
            }
        }
    )*};
}
float_to_rust!(f32, f64);

impl ToRust for String {
    fn to_rust(&self) -> String {
        format!("String::from({:?})", self)
    }
}

impl<T: ToRust> ToRust for Vec<T> {
    fn to_rust(&self) -> String {
        let items: Vec<String> = self.iter().map(ToRust::to_rust).collect();
        format!("vec![{}]", items.join(", "))
    }
}

impl<T: ToRust, const N: usize> ToRust for [T; N] {
    fn to_rust(&self) -> String {
        let items: Vec<String> = self.iter().map(ToRust::to_rust).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<T: ToRust> ToRust for Option<T> {
    fn to_rust(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.to_rust()),
            None => "None".to_string(),
        }
    }
}

impl<T: ToRust + ?Sized> ToRust for Box<T> {
    fn to_rust(&self) -> String {
        format!("Box::new({})", (**self).to_rust())
    }
}

impl<T> ToRust for Var<T> {
    fn to_rust(&self) -> String {
        format!("{self:?}")
    }
}

macro_rules! tuple_to_rust {
    ($($name:ident . $idx:tt),+) => {
        impl<$($name: ToRust),+> ToRust for ($($name,)+) {
            fn to_rust(&self) -> String {
                let items: Vec<String> = vec![$(self.$idx.to_rust()),+];
                if items.len() == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
            }
        }
    };
}
tuple_to_rust!(A.0);
tuple_to_rust!(A.0, B.1);
tuple_to_rust!(A.0, B.1, C.2);
tuple_to_rust!(A.0, B.1, C.2, D.3);
tuple_to_rust!(A.0, B.1, C.2, D.3, E.4);
tuple_to_rust!(A.0, B.1, C.2, D.3, E.4, F.5);

// Derived code prints a field with `(&RustWrap(&field)).__to_rust()`. Method lookup tries the
// receiver `&RustWrap<T>` first, where only `RustFallback` applies (when `T: ToRust`); failing
// that it auto-refs to `&&RustWrap<T>`, where `DebugFallback` applies. This picks `ToRust` when
// it exists and `Debug` otherwise, without specialization.
#[doc(hidden)]
pub struct RustWrap<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait RustFallback {
    fn __to_rust(&self) -> String;
}

impl<T: ToRust + ?Sized> RustFallback for RustWrap<'_, T> {
    fn __to_rust(&self) -> String {
        self.0.to_rust()
    }
}

#[doc(hidden)]
pub trait DebugFallback {
    fn __to_rust(&self) -> String;
}

impl<T: Debug + ?Sized> DebugFallback for &RustWrap<'_, T> {
    fn __to_rust(&self) -> String {
        format!("{:?}", self.0)
    }
}
