//! Unusual but valid enums: empty variants, raw identifiers, custom `ToRust`, a renamed crate.

use proptest::strategy::Just;
use serde::{Deserialize, Serialize};
use serde_json::json;
use stateprop::{Model, StateMachine, ToRust};

#[derive(Clone, Debug, Default)]
pub struct Plain;

/// Printed through its `ToRust` impl.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label(pub String);

impl ToRust for Label {
    fn to_rust(&self) -> String {
        format!("Label::new({:?})", self.0)
    }
}

/// Printed through its `Debug` output, the fallback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: i32,
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Plain)]
pub enum Shapes {
    Braces {},
    Parens(),
    Raw {
        #[strategy(0..2u8)]
        r#type: u8,
    },
    Printed(
        #[strategy(Just(Label("l".into())))] Label,
        #[strategy(Just(Point { x: -1 }))] Point,
    ),
    Boxed(#[strategy(Just(Box::new(Some(3u8))))] Box<Option<u8>>),
}

impl Model for Plain {
    type Op = Shapes;
    type Output = ();

    fn step(&mut self, _: &Shapes) {}
}

#[test]
fn empty_variants_keep_their_style() {
    assert_eq!(Shapes::Braces {}.to_rust(), "Shapes::Braces {}");
    assert_eq!(Shapes::Parens().to_rust(), "Shapes::Parens()");
    assert_eq!(Shapes::Braces {}.to_json(), json!({"Braces": {}}));
    assert_eq!(Shapes::Parens().to_json(), json!({"Parens": []}));
    for value in [
        json!({"Braces": {}}),
        json!("Braces"),
        json!({"Braces": null}),
    ] {
        assert_eq!(Shapes::from_json(&value), Ok(Shapes::Braces {}));
    }
    assert_eq!(
        Shapes::from_json(&json!({"Parens": []})),
        Ok(Shapes::Parens())
    );
    assert_eq!(
        Shapes::from_json(&json!({"Braces": [1]})).unwrap_err(),
        "`Braces` takes no fields (`{}`), found [1]"
    );
}

#[test]
fn raw_identifiers_are_raw_in_rust_and_plain_in_json() {
    let op = Shapes::Raw { r#type: 1 };
    assert_eq!(op.to_rust(), "Shapes::Raw { r#type: 1 }");
    assert_eq!(op.to_json(), json!({"Raw": {"type": 1}}));
    assert_eq!(Shapes::from_json(&op.to_json()), Ok(op));
}

#[test]
fn to_rust_prefers_to_rust_and_falls_back_to_debug() {
    let op = Shapes::Printed(Label("a".into()), Point { x: 2 });
    assert_eq!(
        op.to_rust(),
        r#"Shapes::Printed(Label::new("a"), Point { x: 2 })"#
    );
    assert_eq!(
        Shapes::Boxed(Box::new(None)).to_rust(),
        "Shapes::Boxed(Box::new(None))"
    );
    let json = op.to_json();
    assert_eq!(json, json!({"Printed": ["a", {"x": 2}]}));
    assert_eq!(Shapes::from_json(&json), Ok(op));
}

#[test]
fn generate_evaluates_plain_expressions() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let op = crate::generate(&mut runner, 3, &Plain, &[]).unwrap();
    assert_eq!(op, Shapes::Printed(Label("l".into()), Point { x: -1 }));
    let op = crate::generate(&mut runner, 4, &Plain, &[]).unwrap();
    assert_eq!(op, Shapes::Boxed(Box::new(Some(3))));
}

mod renamed {
    //! `#[state_machine(crate = "...")]` for a crate imported under another name.
    use ::stateprop as sp;
    use sp::StateMachine;

    #[derive(Clone, Debug, Default)]
    pub struct Counter(u64);

    #[derive(Debug, Clone, PartialEq, StateMachine)]
    #[state_machine(crate = "sp", model = Counter)]
    pub enum CounterOp {
        Add(#[strategy(1..5u64)] u64),
    }

    impl sp::Model for Counter {
        type Op = CounterOp;
        type Output = u64;

        fn step(&mut self, op: &CounterOp) -> u64 {
            let CounterOp::Add(n) = op;
            self.0 += n;
            self.0
        }
    }

    #[test]
    fn the_derive_goes_through_the_given_path() {
        assert_eq!(CounterOp::rules()[0].name, "Add");
        assert_eq!(CounterOp::Add(2).to_rust(), "CounterOp::Add(2)");
    }
}
