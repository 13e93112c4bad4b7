//! Checks of what parsed but cannot be derived. Every problem is reported, none stops the others.

use crate::ast::{is_ours, Body, Input};
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
            &["rule", "strategy"],
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
                &["state_machine", "strategy"],
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
                if let (Some(_), Some(strategy)) = (field.var, &field.strategy) {
                    errors.push(Error::new_spanned(
                        strategy.original,
                        "a `Var` field is chosen among earlier results and takes no strategy; \
                         remove this `#[strategy(...)]`",
                    ));
                }
            }
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
            _ => "goes on a field of a variant",
        };
        errors.push(Error::new_spanned(
            attr,
            format!("`#[{name}(...)]` {belongs}, not on {place}"),
        ));
    }
}
