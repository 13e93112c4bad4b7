//! Checks of what parsed but cannot be derived. Every problem is reported, none stops the others.

use crate::ast::{closure, is_ours, param_ident, Body, Input, Variant};
use crate::Errors;
use syn::{Attribute, Error};

impl Input<'_> {
    pub(crate) fn validate(&self, errors: &mut Errors) {
        let body_is_enum = match &self.body {
            Body::Enum(_) => true,
            Body::NotEnum(span) => {
                errors.push(Error::new(
                    *span,
                    "`StateMachine` can only be derived for an enum of operations, one variant \
                     per rule",
                ));
                false
            }
        };
        match (&self.attrs.model, self.attrs.original) {
            (Some(_), _) => {}
            (None, None) => errors.push(Error::new(
                self.ident.span(),
                format!(
                    "missing the model: add `#[state_machine(model = YourModel)]` to `{}`",
                    self.ident
                ),
            )),
            (None, Some(_)) if self.attrs.malformed => {}
            (None, Some(attr)) => errors.push(Error::new_spanned(
                attr,
                "missing the model: write `#[state_machine(model = YourModel)]`",
            )),
        }
        if !body_is_enum {
            return;
        }

        let generics = &self.original.generics;
        if !generics.params.is_empty() {
            errors.push(Error::new_spanned(
                generics,
                "generic operation enums are not supported; use concrete types in the variants",
            ));
        }

        misplaced(
            &self.original.attrs,
            &["rule", "strategy", "consumes"],
            errors,
            "the enum",
        );
        if self.variants().is_empty() {
            errors.push(Error::new(
                self.ident.span(),
                format!(
                    "an operation enum needs at least one variant: add one variant per rule to `{}`",
                    self.ident
                ),
            ));
        }
        for variant in self.variants() {
            misplaced(
                &variant.original.attrs,
                &["state_machine", "strategy", "consumes"],
                errors,
                "a variant",
            );
            for field in &variant.fields {
                misplaced(
                    &field.original.attrs,
                    &["state_machine", "rule"],
                    errors,
                    "a field",
                );
                if let (None, Some(consumes)) = (field.var, field.consumes) {
                    errors.push(Error::new_spanned(
                        consumes,
                        "`#[consumes]` goes on a `Var` field: it uses up the earlier result the \
                         var names, so no later step can choose it",
                    ));
                }
                if let (Some(_), Some(strategy)) = (field.var, &field.strategy) {
                    errors.push(Error::new_spanned(
                        strategy.original,
                        "a `Var` field is chosen among earlier results and takes no strategy; \
                         to choose only some, give the rule a precondition over the field, like \
                         `#[rule(precondition = |m: &Model, fd: &Var<Fd>| ...)]`",
                    ));
                }
            }
            precondition_params(variant, errors);
            strategy_params(variant, errors);
        }
    }
}

/// Reports the derive's own attributes found where they mean nothing.
fn misplaced(attrs: &[Attribute], forbidden: &[&str], errors: &mut Errors, place: &str) {
    for attr in attrs {
        let Some(name) = is_ours(attr) else { continue };
        if !forbidden.contains(&name) {
            continue;
        }
        let belongs = match name {
            "state_machine" => "goes on the operations enum",
            "rule" => "goes on a variant of the operations enum",
            "consumes" => "goes on a `Var` field of a variant",
            _ => "goes on a field of a variant",
        };
        errors.push(Error::new_spanned(
            attr,
            match name {
                "consumes" => format!("`#[consumes]` {belongs}, not on {place}"),
                _ => format!("`#[{name}(...)]` {belongs}, not on {place}"),
            },
        ));
    }
}

/// Checks that a precondition's parameters after the model name fields of its variant, once each.
fn precondition_params(variant: &Variant, errors: &mut Errors) {
    let Some(pre) = &variant.attrs.precondition else {
        return;
    };
    let Some(c) = closure(&pre.expr) else { return };
    let mut seen: Vec<String> = Vec::new();
    for param in c.inputs.iter().skip(1) {
        let Some(ident) = param_ident(param) else {
            errors.push(Error::new_spanned(
                param,
                "a precondition's parameters after the model are fields of the variant, by \
                 name, like `|m: &Model, fd: &Var<Fd>|`",
            ));
            continue;
        };
        if variant.field(ident).is_none() {
            errors.push(Error::new_spanned(
                param,
                format!(
                    "precondition parameter `{ident}` names no field of `{}`; parameters after \
                     the model are fields, by name",
                    variant.name
                ),
            ));
        } else if seen.contains(&ident.to_string()) {
            errors.push(Error::new_spanned(
                param,
                format!("field `{ident}` is named twice in the precondition"),
            ));
        }
        seen.push(ident.to_string());
    }
}

/// Checks that a strategy's parameters after the model name generated fields declared before
/// its own: those are the values drawn before it.
fn strategy_params(variant: &Variant, errors: &mut Errors) {
    for (position, field) in variant.fields.iter().enumerate() {
        let Some(c) = field.strategy.as_ref().and_then(|s| closure(&s.expr)) else {
            continue;
        };
        for param in c.inputs.iter().skip(1) {
            let earlier = param_ident(param).and_then(|ident| {
                variant.fields[..position]
                    .iter()
                    .position(|f| syn::ext::IdentExt::unraw(ident) == f.name)
            });
            match earlier {
                Some(i) if variant.fields[i].var.is_none() => {}
                Some(_) => errors.push(Error::new_spanned(
                    param,
                    "a strategy cannot read a `Var` field: its value is known only when the \
                     step runs",
                )),
                None => errors.push(Error::new_spanned(
                    param,
                    format!(
                        "a strategy's parameters after the model name fields declared before \
                         `{}`, by name, like `|m: &Model, lo: &u32| *lo..=100`",
                        field.name
                    ),
                )),
            }
        }
    }
}
