//! The derive's own view of the input: the enum, its variants (rules) and their fields
//! (arguments). Every node keeps the `syn` node it came from, for error spans.

use crate::attr::{self, Container, Rule, Strategy};
use crate::Errors;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, Member, PathArguments, Type,
};

pub(crate) struct Input<'a> {
    pub original: &'a DeriveInput,
    pub ident: &'a Ident,
    pub attrs: Container<'a>,
    pub body: Body<'a>,
}

pub(crate) enum Body<'a> {
    Enum(Vec<Variant<'a>>),
    /// A struct or union, which is rejected: the span of its keyword.
    NotEnum(Span),
}

pub(crate) struct Variant<'a> {
    pub original: &'a syn::Variant,
    pub ident: &'a Ident,
    /// The name users see in reports and JSON (without `r#`).
    pub name: String,
    pub attrs: Rule,
    pub style: Style,
    pub fields: Vec<Field<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Unit,
    Named,
    Tuple,
}

pub(crate) struct Field<'a> {
    pub original: &'a syn::Field,
    pub member: Member,
    /// `key` for a named field, `0` for a positional one.
    pub name: String,
    pub ty: &'a Type,
    /// `T` when the field is a `Var<T>`.
    pub var: Option<&'a Type>,
    pub strategy: Option<Strategy<'a>>,
    /// `#[consumes]`: a step using this `Var` uses its result up.
    pub consumes: Option<&'a Attribute>,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = attr::container(&node.attrs, errors);
        let body = match &node.data {
            Data::Enum(data) => Body::Enum(
                data.variants
                    .iter()
                    .map(|v| Variant::from_syn(v, errors))
                    .collect(),
            ),
            Data::Struct(data) => Body::NotEnum(data.struct_token.span),
            Data::Union(data) => Body::NotEnum(data.union_token.span),
        };
        Input {
            original: node,
            ident: &node.ident,
            attrs,
            body,
        }
    }

    pub(crate) fn variants(&self) -> &[Variant<'a>] {
        match &self.body {
            Body::Enum(variants) => variants,
            Body::NotEnum(_) => &[],
        }
    }
}

impl<'a> Variant<'a> {
    fn from_syn(node: &'a syn::Variant, errors: &mut Errors) -> Self {
        let style = match &node.fields {
            Fields::Unit => Style::Unit,
            Fields::Named(_) => Style::Named,
            Fields::Unnamed(_) => Style::Tuple,
        };
        let fields = node
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| Field::from_syn(i, f, errors))
            .collect();
        Variant {
            original: node,
            ident: &node.ident,
            name: node.ident.unraw().to_string(),
            attrs: attr::rule(&node.attrs, errors),
            style,
            fields,
        }
    }

    /// The fields a strategy generates, in declaration order: what `set_arg` indexes.
    pub(crate) fn generated_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.var.is_none())
    }

    pub(crate) fn var_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.var.is_some())
    }

    /// The `Var` fields marked `#[consumes]`.
    pub(crate) fn consumed_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.var_fields().filter(|f| f.consumes.is_some())
    }
}

impl<'a> Field<'a> {
    fn from_syn(index: usize, node: &'a syn::Field, errors: &mut Errors) -> Self {
        let (member, name) = match &node.ident {
            Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
            None => (
                Member::Unnamed(syn::Index {
                    index: index as u32,
                    span: Span::call_site(),
                }),
                index.to_string(),
            ),
        };
        Field {
            original: node,
            member,
            name,
            ty: &node.ty,
            var: var_inner(&node.ty),
            strategy: attr::strategy(&node.attrs, errors),
            consumes: attr::consumes(&node.attrs, errors),
        }
    }
}

/// How a rule's precondition reads the operation's fields.
pub(crate) enum PreArgs<'v, 'a> {
    /// No precondition, or one over the model alone (`|m: &M| ...`).
    ModelOnly,
    /// Over the model and one `Var` field: generation chooses among the earlier results that
    /// satisfy it.
    OneVar(&'v Field<'a>),
    /// Over the model and these fields, in parameter order: generation draws the arguments
    /// again until it holds (at most `ARG_TRIES` times).
    Fields(Vec<&'v Field<'a>>),
}

/// The closure of a precondition or strategy, looking through parentheses.
pub(crate) fn closure(expr: &syn::Expr) -> Option<&syn::ExprClosure> {
    match expr {
        syn::Expr::Closure(c) => Some(c),
        syn::Expr::Group(group) => closure(&group.expr),
        syn::Expr::Paren(paren) => closure(&paren.expr),
        _ => None,
    }
}

/// The identifier a closure parameter binds (`fd` in `fd: &Var<Fd>`), if it is a plain name.
pub(crate) fn param_ident(pat: &syn::Pat) -> Option<&Ident> {
    match pat {
        syn::Pat::Type(typed) => param_ident(&typed.pat),
        syn::Pat::Ident(ident) if ident.subpat.is_none() => Some(&ident.ident),
        _ => None,
    }
}

impl<'a> Variant<'a> {
    /// The field named `name`, if any.
    pub(crate) fn field(&self, name: &Ident) -> Option<&Field<'a>> {
        let name = name.unraw().to_string();
        self.fields.iter().find(|f| f.name == name)
    }

    /// How the precondition reads the fields; parameters that name no field are left out
    /// (validation reports them).
    pub(crate) fn pre_args(&self) -> PreArgs<'_, 'a> {
        let Some(pre) = &self.attrs.precondition else {
            return PreArgs::ModelOnly;
        };
        let Some(c) = closure(&pre.expr).filter(|c| c.inputs.len() > 1) else {
            return PreArgs::ModelOnly;
        };
        let fields: Vec<_> = c
            .inputs
            .iter()
            .skip(1)
            .filter_map(|p| param_ident(p).and_then(|i| self.field(i)))
            .collect();
        match fields.as_slice() {
            [one] if one.var.is_some() => PreArgs::OneVar(one),
            _ => PreArgs::Fields(fields),
        }
    }
}

/// `T` if `ty` is `Var<T>` (by the last path segment, so `stateprop::Var<T>` counts).
fn var_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Group(group) => var_inner(&group.elem),
        Type::Paren(paren) => var_inner(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            if last.ident != "Var" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            });
            match (types.next(), types.next(), args.args.len()) {
                (Some(inner), None, 1) => Some(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether an attribute is one this derive owns (used to report misplaced ones).
pub(crate) fn is_ours(attr: &Attribute) -> Option<&'static str> {
    [attr::CONTAINER, attr::RULE, attr::STRATEGY, attr::CONSUMES]
        .into_iter()
        .find(|name| attr.path().is_ident(name))
}
