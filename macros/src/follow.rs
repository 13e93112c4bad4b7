//! The derived `follow_model`, `follows_model`, `arg_follows_model` and `arg_key`: arguments
//! drawn from `#[strategy]`s, re-checked by the shrinker's repair against what their strategies
//! make where their step now runs (see `src/generate/support.rs`). A strategy that reads the
//! model makes different values in different states; a fixed one (`0..20u32`) is re-checked too,
//! since passes that set values directly (sums, joint moves) must stay inside it.

use crate::ast::{param_ident, Field, Variant};
use crate::expand::{binding, pattern};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The strategy closure of a field whose strategy reads the model.
fn model_closure<'f>(field: &'f Field) -> Option<&'f syn::ExprClosure> {
    let strategy = field.strategy.as_ref()?;
    crate::ast::closure(&strategy.expr).filter(|c| !c.inputs.is_empty())
}

/// The generated fields (those `set_arg` counts) whose strategies read the model, with their
/// argument index.
fn followers<'v, 'a>(v: &'v Variant<'a>) -> impl Iterator<Item = (usize, &'v Field<'a>)> {
    v.generated_fields()
        .enumerate()
        .filter(|(_, f)| model_closure(f).is_some())
}

/// The generated fields with a `#[strategy]`, which `follow_model` re-checks.
fn checked<'v, 'a>(v: &'v Variant<'a>) -> impl Iterator<Item = &'v Field<'a>> {
    v.generated_fields().filter(|f| f.strategy.is_some())
}

/// The methods, for the impl block.
pub(crate) fn methods(variants: &[Variant], p: &TokenStream) -> TokenStream {
    let follows = variants.iter().any(|v| checked(v).next().is_some());
    if !follows {
        return TokenStream::new();
    }
    let arms = variants.iter().map(|v| follow_arm(v, p));
    let keys = variants.iter().map(|v| key_arm(v, p));
    let args = variants
        .iter()
        .enumerate()
        .flat_map(|(rule, v)| followers(v).map(move |(arg, _)| quote!((#rule, #arg) => true,)));
    quote! {
        fn follow_model(&mut self, __model: &Self::Model) -> bool {
            #[allow(unused_imports)]
            use #p::{FollowKnown as _, FollowUnknown as _};
            let _ = __model;
            match self {
                #(#arms)*
            }
        }

        fn follows_model() -> bool {
            true
        }

        fn arg_key(&self, __arg: usize) -> #p::Option<(::core::any::TypeId, #p::String)> {
            match self {
                #(#keys)*
            }
        }

        fn arg_follows_model(__rule: usize, __arg: usize) -> bool {
            match (__rule, __arg) {
                #(#args)*
                _ => false,
            }
        }
    }
}

fn follow_arm(v: &Variant, p: &TokenStream) -> TokenStream {
    if checked(v).next().is_none() {
        let pattern = pattern(v, std::iter::empty());
        return quote!(#pattern => true,);
    }
    let pattern = pattern(v, v.fields.iter());
    let steps = checked(v).map(|field| {
        let value = binding(field);
        let strategy = match model_closure(field) {
            Some(closure) => {
                let param = &closure.inputs[0];
                // Earlier fields the strategy reads, lent as they are (validated by `generate`).
                let earlier = closure.inputs.iter().skip(1).filter_map(|param| {
                    let field = v.field(param_ident(param)?)?;
                    let value = binding(field);
                    Some(quote_spanned!(param.span()=> let #param = &*#value;))
                });
                let body = &closure.body;
                quote! {
                    #[allow(unused_variables, clippy::needless_borrow)]
                    let #param = __model;
                    #(#[allow(unused_variables)] #earlier)*
                    let __strategy = #body;
                }
            }
            None => {
                let expr = &field.strategy.as_ref().expect("checked").expr;
                quote!(let __strategy = #expr;)
            }
        };
        quote! {
            {
                #strategy
                // The borrow picks the dispatch (see `Follow`), needed or not.
                #[allow(clippy::needless_borrow)]
                let __made = (&mut #p::Follow(&__strategy, #value)).__follow();
                if !__made {
                    return false;
                }
            }
        }
    });
    quote! {
        #[allow(unused_variables)]
        #pattern => {
            #(#steps)*
            true
        }
    }
}

fn key_arm(v: &Variant, p: &TokenStream) -> TokenStream {
    let pattern = pattern(v, v.generated_fields());
    let arms = v.generated_fields().enumerate().map(|(i, field)| {
        let binding = binding(field);
        let ty = field.ty;
        quote! {
            #i => #p::Some((
                ::core::any::TypeId::of::<#ty>(),
                #p::format!("{:?}", #binding),
            )),
        }
    });
    quote! {
        #[allow(unused_variables)]
        #pattern => match __arg {
            #(#arms)*
            _ => #p::None,
        },
    }
}
