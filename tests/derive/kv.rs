//! Strategies, preconditions, weights and every variant style on a key-value store.

use crate::{generate, generate_with_trees, squeeze};
use proptest::test_runner::TestRunner;
use serde_json::json;
use stateprop::prelude::*;
use stateprop::RuleInfo;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kv {
    pub map: BTreeMap<u8, u32>,
}

impl Kv {
    fn is_large(&self) -> bool {
        self.map.len() > 2
    }
}

#[derive(Debug, Clone, PartialEq, StateMachine)]
#[state_machine(model = Kv)]
pub enum KvOp {
    #[rule(weight = 3)]
    Put {
        #[strategy(0..8u8)]
        key: u8,
        value: u32,
    },
    Get {
        #[strategy(0..8u8)]
        key: u8,
    },
    #[rule(precondition = |m: &Kv| !m.map.is_empty())]
    Delete {
        #[strategy(|m: &Kv| select(m.map.keys().copied().collect::<Vec<_>>()))]
        key: u8,
    },
    #[rule(weight = 2, precondition = Kv::is_large)]
    Clear,
    Pair(u8, #[strategy(0..3u32)] u32),
    Note(String),
}

impl Model for Kv {
    type Op = KvOp;
    type Output = Option<u32>;

    fn step(&mut self, op: &KvOp) -> Option<u32> {
        match op {
            KvOp::Put { key, value } => self.map.insert(*key, *value),
            KvOp::Get { key } => self.map.get(key).copied(),
            KvOp::Delete { key } => self.map.remove(key),
            KvOp::Clear => {
                self.map.clear();
                None
            }
            KvOp::Pair(..) | KvOp::Note(_) => None,
        }
    }
}

fn model_with(keys: &[u8]) -> Kv {
    Kv {
        map: keys.iter().map(|&k| (k, u32::from(k) * 10)).collect(),
    }
}

#[test]
fn rules_follow_declaration_order() {
    let rules = KvOp::rules();
    let names: Vec<_> = rules.iter().map(|r| r.name).collect();
    assert_eq!(names, ["Put", "Get", "Delete", "Clear", "Pair", "Note"]);
    assert_eq!(
        rules[0],
        RuleInfo {
            name: "Put",
            weight: 3,
            precondition: None,
            var_fields: &[],
        }
    );
    assert_eq!(rules[1].weight, 1);
    assert_eq!(
        squeeze(rules[2].precondition).as_deref(),
        Some("|m:&Kv|!m.map.is_empty()")
    );
    assert_eq!(rules[3].weight, 2);
    assert_eq!(
        squeeze(rules[3].precondition).as_deref(),
        Some("Kv::is_large")
    );
    assert!(rules.iter().all(|r| r.var_fields.is_empty()));
    assert!(!KvOp::uses_vars());
}

#[test]
fn rule_index_is_the_variant_index() {
    let ops = [
        KvOp::Put { key: 1, value: 2 },
        KvOp::Get { key: 1 },
        KvOp::Delete { key: 1 },
        KvOp::Clear,
        KvOp::Pair(1, 2),
        KvOp::Note(String::new()),
    ];
    let indices: Vec<_> = ops.iter().map(StateMachine::rule_index).collect();
    assert_eq!(indices, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn enabled_checks_closure_and_path_preconditions() {
    let empty = Kv::default();
    let small = model_with(&[1]);
    let large = model_with(&[1, 2, 3]);
    for model in [&empty, &small, &large] {
        assert!(KvOp::enabled(0, model, &[]), "no precondition");
        assert!(KvOp::enabled(1, model, &[]));
        assert!(KvOp::enabled(4, model, &[]));
        assert!(KvOp::enabled(5, model, &[]));
    }
    assert!(!KvOp::enabled(2, &empty, &[]));
    assert!(KvOp::enabled(2, &small, &[]));
    assert!(!KvOp::enabled(3, &small, &[]));
    assert!(KvOp::enabled(3, &large, &[]));
    assert!(!KvOp::enabled(6, &large, &[]), "out of range");
    assert!(!KvOp::enabled(usize::MAX, &large, &[]));
}

#[test]
fn generate_uses_the_field_strategies() {
    let mut runner = TestRunner::deterministic();
    let model = model_with(&[3, 5]);
    for _ in 0..200 {
        match generate(&mut runner, 0, &model, &[]).unwrap() {
            KvOp::Put { key, .. } => assert!(key < 8),
            other => panic!("rule 0 generated {other:?}"),
        }
        match generate(&mut runner, 2, &model, &[]).unwrap() {
            KvOp::Delete { key } => assert!(key == 3 || key == 5, "key {key} not in the model"),
            other => panic!("rule 2 generated {other:?}"),
        }
        match generate(&mut runner, 4, &model, &[]).unwrap() {
            KvOp::Pair(_, second) => assert!(second < 3),
            other => panic!("rule 4 generated {other:?}"),
        }
    }
    assert_eq!(generate(&mut runner, 3, &model, &[]).unwrap(), KvOp::Clear);
    assert!(matches!(
        generate(&mut runner, 5, &model, &[]).unwrap(),
        KvOp::Note(_)
    ));
}

#[test]
fn generate_draws_all_values_of_a_strategy() {
    let mut runner = TestRunner::deterministic();
    let mut seen = [false; 8];
    for _ in 0..500 {
        if let KvOp::Get { key } = generate(&mut runner, 1, &Kv::default(), &[]).unwrap() {
            seen[usize::from(key)] = true;
        }
    }
    assert_eq!(seen, [true; 8]);
}

#[test]
fn integer_fields_without_strategy_hit_boundaries() {
    let mut runner = TestRunner::deterministic();
    let mut values = Vec::new();
    for _ in 0..400 {
        if let KvOp::Put { value, .. } = generate(&mut runner, 0, &Kv::default(), &[]).unwrap() {
            values.push(value);
        }
    }
    assert!(values.contains(&u32::MAX), "u32::MAX never drawn");
    assert!(values.contains(&0), "0 never drawn");
    assert!(
        values.iter().any(|v| *v > 2 && *v < u32::MAX - 1),
        "only boundaries drawn"
    );
}

#[test]
fn generate_is_deterministic() {
    let draw = || {
        let mut runner = TestRunner::deterministic();
        (0..20)
            .map(|i| generate(&mut runner, i % 6, &model_with(&[4]), &[]).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(), draw());
}

#[test]
fn generate_rejects_an_unknown_rule() {
    let mut runner = TestRunner::deterministic();
    let err = generate(&mut runner, 6, &Kv::default(), &[]).unwrap_err();
    assert_eq!(err, "rule 6 is out of range: `KvOp` has 6 rules");
}

#[test]
fn generate_keeps_one_tree_per_generated_field() {
    let mut runner = TestRunner::deterministic();
    let (_, trees) = generate_with_trees(&mut runner, 0, &Kv::default());
    assert_eq!(trees.len(), 2);
    let (_, trees) = generate_with_trees(&mut runner, 3, &model_with(&[1, 2, 3]));
    assert!(trees.is_empty());
    let (_, trees) = generate_with_trees(&mut runner, 4, &Kv::default());
    assert_eq!(trees.len(), 2);
}

#[test]
fn set_arg_reads_the_tree_of_each_field() {
    let mut runner = TestRunner::deterministic();
    loop {
        let (mut op, mut trees) = generate_with_trees(&mut runner, 0, &Kv::default());
        if op == (KvOp::Put { key: 0, value: 0 }) {
            continue;
        }
        while trees[0].simplify() {}
        while trees[1].simplify() {}
        op.set_arg(0, &*trees[0]);
        assert!(matches!(op, KvOp::Put { key: 0, .. }), "{op:?}");
        op.set_arg(1, &*trees[1]);
        assert_eq!(op, KvOp::Put { key: 0, value: 0 });
        break;
    }
}

#[test]
fn set_arg_numbers_positional_fields() {
    let mut runner = TestRunner::deterministic();
    let (_, trees) = generate_with_trees(&mut runner, 4, &Kv::default());
    let mut op = KvOp::Pair(200, 200);
    op.set_arg(1, &*trees[1]);
    let KvOp::Pair(first, second) = op else {
        unreachable!()
    };
    assert_eq!(first, 200);
    assert!(second < 3);
}

#[test]
fn set_arg_ignores_a_foreign_tree_or_index() {
    let mut runner = TestRunner::deterministic();
    // Trees of `Pair`: a `u8` and a `u32`.
    let (_, trees) = generate_with_trees(&mut runner, 4, &Kv::default());
    let mut op = KvOp::Put { key: 200, value: 7 };
    op.set_arg(0, &*trees[1]);
    op.set_arg(1, &*trees[0]);
    op.set_arg(2, &*trees[0]);
    assert_eq!(op, KvOp::Put { key: 200, value: 7 });
    let mut clear = KvOp::Clear;
    clear.set_arg(0, &*trees[0]);
    assert_eq!(clear, KvOp::Clear);
}

#[test]
fn to_rust_writes_each_variant_style() {
    assert_eq!(
        KvOp::Put { key: 1, value: 7 }.to_rust(),
        "KvOp::Put { key: 1, value: 7 }"
    );
    assert_eq!(KvOp::Get { key: 0 }.to_rust(), "KvOp::Get { key: 0 }");
    assert_eq!(KvOp::Clear.to_rust(), "KvOp::Clear");
    assert_eq!(KvOp::Pair(1, 2).to_rust(), "KvOp::Pair(1, 2)");
    assert_eq!(
        KvOp::Note("a \"b\"".into()).to_rust(),
        r#"KvOp::Note(String::from("a \"b\""))"#
    );
}

#[test]
fn to_json_is_serde_externally_tagged() {
    assert_eq!(
        KvOp::Put { key: 1, value: 7 }.to_json(),
        json!({"Put": {"key": 1, "value": 7}})
    );
    assert_eq!(KvOp::Clear.to_json(), json!("Clear"));
    assert_eq!(KvOp::Pair(1, 2).to_json(), json!({"Pair": [1, 2]}));
    assert_eq!(KvOp::Note("x".into()).to_json(), json!({"Note": "x"}));
}

#[test]
fn from_json_inverts_to_json() {
    let ops = [
        KvOp::Put { key: 1, value: 7 },
        KvOp::Get { key: 2 },
        KvOp::Delete { key: 3 },
        KvOp::Clear,
        KvOp::Pair(4, 2),
        KvOp::Note("hello".into()),
    ];
    for op in ops {
        assert_eq!(KvOp::from_json(&op.to_json()), Ok(op.clone()));
        let text = serde_json::to_string(&op.to_json()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(KvOp::from_json(&value), Ok(op));
    }
    assert_eq!(KvOp::from_json(&json!({"Clear": null})), Ok(KvOp::Clear));
}

#[test]
fn from_json_explains_what_is_wrong() {
    let err = |value: serde_json::Value| KvOp::from_json(&value).unwrap_err();
    assert_eq!(
        err(json!("Putt")),
        "unknown operation `Putt` for `KvOp`; expected one of `Put`, `Get`, `Delete`, `Clear`, \
         `Pair`, `Note`"
    );
    assert_eq!(
        err(json!(3)),
        "an operation is a variant name or an object with one key, found 3"
    );
    assert_eq!(
        err(json!("Put")),
        r#"`Put` needs its fields: write {"Put": {"key": ..., "value": ...}}"#
    );
    assert_eq!(
        err(json!({"Put": [1, 2]})),
        r#"`Put` takes an object of its fields, like {"Put": {"key": ..., "value": ...}}, found [1,2]"#
    );
    assert_eq!(
        err(json!({"Put": {"key": 1}})),
        "`Put` has no field `value`"
    );
    assert_eq!(
        err(json!({"Put": {"key": 1, "value": 2, "vaule": 3}})),
        "unknown field `vaule` in `Put`; its fields are `key`, `value`"
    );
    assert!(err(json!({"Put": {"key": 1000, "value": 2}})).starts_with("`Put.key`: "));
    assert_eq!(err(json!({"Clear": 1})), "`Clear` takes no fields, found 1");
    assert_eq!(
        err(json!("Pair")),
        r#"`Pair` needs its fields: write {"Pair": [..., ...]}"#
    );
    assert_eq!(
        err(json!({"Pair": [1]})),
        "`Pair` takes an array of its 2 fields, found [1]"
    );
    assert!(err(json!({"Pair": [1, "x"]})).starts_with("`Pair.1`: "));
    assert_eq!(
        err(json!("Note")),
        r#"`Note` needs its field: write {"Note": ...}"#
    );
    assert!(err(json!({"Note": 5})).starts_with("`Note.0`: "));
}
