//! Parsing of the four attributes the derive understands: `#[state_machine(...)]` on the enum,
//! `#[rule(...)]` on a variant, and `#[strategy(...)]` and `#[consumes]` on a field.
//!
//! Each parser reads every attribute of its kind, records what it understood and pushes an error
//! for everything else, so that all mistakes are reported at once.

use crate::Errors;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Path, Type};

/// `#[state_machine(model = ..., crate = "...")]`.
#[derive(Default)]
pub(crate) struct Container<'a> {
    /// The first `#[state_machine]` attribute, for error spans.
    pub original: Option<&'a Attribute>,
    pub model: Option<Type>,
    pub krate: Option<Path>,
    /// Whether an error was reported in the attribute (then a missing model is not reported
    /// again: the error most likely is the model, misspelled).
    pub malformed: bool,
}

/// `#[rule(weight = ..., precondition = ...)]`.
#[derive(Default)]
pub(crate) struct Rule {
    pub weight: Option<u32>,
    pub precondition: Option<Precondition>,
}

pub(crate) struct Precondition {
    /// The `precondition` key, which type errors name as the call requiring `Fn(&Model) -> bool`.
    pub key: Span,
    pub expr: Expr,
}

/// `#[strategy(EXPR)]`.
pub(crate) struct Strategy<'a> {
    pub original: &'a Attribute,
    pub expr: Expr,
}

/// The attributes this derive owns, in the order the user meets them.
pub(crate) const CONTAINER: &str = "state_machine";
pub(crate) const RULE: &str = "rule";
pub(crate) const STRATEGY: &str = "strategy";
pub(crate) const CONSUMES: &str = "consumes";

pub(crate) fn container<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Container<'a> {
    let mut out = Container::default();
    let mut seen_attr = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident(CONTAINER)) {
        if seen_attr {
            errors.push(syn::Error::new_spanned(
                attr,
                "duplicate `#[state_machine(...)]` attribute; merge the two into one",
            ));
            continue;
        }
        seen_attr = true;
        out.original = Some(attr);
        if let Err(err) = require_list(attr, "#[state_machine(model = YourModel)]") {
            errors.push(err);
            out.malformed = true;
            continue;
        }
        let mut model_key: Option<Span> = None;
        let mut crate_key: Option<Span> = None;
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("model") {
                let ty: Type = meta.value()?.parse()?;
                if check_duplicate(&mut model_key, &meta, "model", CONTAINER, errors) {
                    out.model = Some(ty);
                }
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                let path = lit.parse::<Path>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`crate` takes the path of the stateprop crate as a string, like \
                         `crate = \"::stateprop\"`",
                    )
                })?;
                if check_duplicate(&mut crate_key, &meta, "crate", CONTAINER, errors) {
                    out.krate = Some(path);
                }
            } else {
                errors.push(unknown_key(&meta, CONTAINER, "`model` or `crate`"));
                out.malformed = true;
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(err) = result {
            errors.push(err);
            out.malformed = true;
        }
    }
    out
}

pub(crate) fn rule(attrs: &[Attribute], errors: &mut Errors) -> Rule {
    let mut out = Rule::default();
    let mut seen_attr = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident(RULE)) {
        if seen_attr {
            errors.push(syn::Error::new_spanned(
                attr,
                "duplicate `#[rule(...)]` attribute; merge the two into one",
            ));
            continue;
        }
        seen_attr = true;
        if let Err(err) = require_list(attr, "#[rule(weight = 2)]") {
            errors.push(err);
            continue;
        }
        let mut weight_key: Option<Span> = None;
        let mut precondition_key: Option<Span> = None;
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("weight") {
                let value: Expr = meta.value()?.parse()?;
                let weight = parse_weight(&value);
                if check_duplicate(&mut weight_key, &meta, "weight", RULE, errors) {
                    match weight {
                        Ok(weight) => out.weight = Some(weight),
                        Err(err) => errors.push(err),
                    }
                }
            } else if meta.path.is_ident("precondition") {
                let expr: Expr = meta.value()?.parse()?;
                if check_duplicate(&mut precondition_key, &meta, "precondition", RULE, errors) {
                    out.precondition = Some(Precondition {
                        key: meta.path.span(),
                        expr,
                    });
                }
            } else {
                errors.push(unknown_key(&meta, RULE, "`weight` or `precondition`"));
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    out
}

pub(crate) fn strategy<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Option<Strategy<'a>> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(STRATEGY)) {
        if out.is_some() {
            errors.push(syn::Error::new_spanned(
                attr,
                "duplicate `#[strategy(...)]` attribute; a field takes one strategy",
            ));
            continue;
        }
        let needs_expr = || {
            syn::Error::new_spanned(
                attr,
                "`#[strategy(...)]` needs a strategy expression in parentheses, like \
                 `#[strategy(0..10u32)]`",
            )
        };
        let tokens: &TokenStream = match &attr.meta {
            Meta::List(list) => &list.tokens,
            Meta::Path(_) | Meta::NameValue(_) => {
                errors.push(needs_expr());
                continue;
            }
        };
        if tokens.is_empty() {
            errors.push(needs_expr());
            continue;
        }
        match syn::parse2::<Expr>(tokens.clone()) {
            Ok(expr) => {
                out = Some(Strategy {
                    original: attr,
                    expr,
                })
            }
            Err(err) => errors.push(err),
        }
    }
    out
}

/// `#[consumes]` on a field: the first one, for spans; it takes no settings.
pub(crate) fn consumes<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Option<&'a Attribute> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(CONSUMES)) {
        if !matches!(attr.meta, Meta::Path(_)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[consumes]` takes no settings; write it alone above the `Var` field",
            ));
        } else if out.is_some() {
            errors.push(syn::Error::new_spanned(
                attr,
                "duplicate `#[consumes]` attribute; keep only one",
            ));
            continue;
        }
        out.get_or_insert(attr);
    }
    out
}

/// Rejects `#[name]` and `#[name = ...]` where `#[name(...)]` is expected.
fn require_list(attr: &Attribute, example: &str) -> syn::Result<()> {
    match &attr.meta {
        Meta::List(_) => Ok(()),
        Meta::Path(_) | Meta::NameValue(_) => Err(syn::Error::new_spanned(
            attr,
            format!("expected a list of settings in parentheses, like `{example}`"),
        )),
    }
}

/// Records the first occurrence of `key`; returns `false` (and reports) on a repeat.
fn check_duplicate(
    seen: &mut Option<Span>,
    meta: &ParseNestedMeta,
    key: &str,
    attr: &str,
    errors: &mut Errors,
) -> bool {
    if seen.is_some() {
        errors.push(syn::Error::new(
            meta.path.span(),
            format!("duplicate `{key}` in `#[{attr}(...)]`; keep only one"),
        ));
        false
    } else {
        *seen = Some(meta.path.span());
        true
    }
}

fn unknown_key(meta: &ParseNestedMeta, attr: &str, expected: &str) -> syn::Error {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    syn::Error::new(
        meta.path.span(),
        format!("unknown key `{key}` in `#[{attr}(...)]`; expected {expected}"),
    )
}

/// Steps over the `= value` of a key already reported, so the keys after it are checked too.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

fn parse_weight(value: &Expr) -> syn::Result<u32> {
    let not_integer = || {
        syn::Error::new_spanned(
            value,
            "rule weight must be an integer literal, like `weight = 3`",
        )
    };
    let lit = match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        _ => return Err(not_integer()),
    };
    let value = lit.base10_parse::<u32>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("rule weight must fit in a `u32`, found `{lit}`"),
        )
    })?;
    if value == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "rule weight must be at least 1; to keep a rule from running, give it a \
             `precondition`",
        ));
    }
    Ok(value)
}
