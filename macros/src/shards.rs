//! `#[shards(n)]`: one campaign function becomes `n` tests, one per shard, so that
//! `cargo nextest run --partition` deals the shards of one long campaign over machines. nextest
//! partitions tests and tells a test nothing of its partition, so the shard must be in the test.
//!
//! Same pipeline as the derive, in small: parse the arguments and the function, validate, then
//! expand, or on error give the errors beside the function unchanged (one mistake, one message).

use crate::Errors;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ItemFn, LitInt, LitStr, Path, Token};

/// The most shards one campaign may have: beyond it, test names and lists stop being readable,
/// and no CI matrix is that wide.
const MAX_SHARDS: u32 = 9_999;

/// `n` or `n, crate = "path"`.
struct Args {
    count: LitInt,
    krate: Option<Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let count: LitInt = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the number of shards, as in `#[stateprop::shards(16)]`",
            )
        })?;
        let mut krate = None;
        while input.parse::<Option<Token![,]>>()?.is_some() {
            if input.is_empty() {
                break;
            }
            let key: Token![crate] = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "unknown argument: `shards` takes `crate = \"path\"`",
                )
            })?;
            input.parse::<Token![=]>()?;
            let path: LitStr = input.parse()?;
            if krate.is_some() {
                return Err(syn::Error::new(key.span(), "duplicate `crate` argument"));
            }
            krate = Some(path.parse()?);
        }
        Ok(Args { count, krate })
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "`shards` goes on a function taking a `stateprop::Shard`",
            );
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut errors = Errors::default();
    let args = match args.is_empty() {
        true => Err(syn::Error::new(
            Span::call_site(),
            "expected the number of shards, as in `#[stateprop::shards(16)]`",
        )),
        false => syn::parse2::<Args>(args),
    };
    let args = match args {
        Ok(args) => Some(args),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let count = args.as_ref().and_then(|a| count(&a.count, &mut errors));
    validate(&function, &mut errors);
    if let Err(e) = errors.finish() {
        let mut out = e.to_compile_error();
        out.extend(function.into_token_stream());
        return out;
    }
    let (Some(args), Some(count)) = (args, count) else {
        unreachable!("errors were reported above")
    };
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::stateprop),
    };
    // `#[ignore]` and `#[should_panic]` mean something on a test, not on the campaign function.
    let (for_tests, own): (Vec<Attribute>, Vec<Attribute>) = function
        .attrs
        .drain(..)
        .partition(|a| a.path().is_ident("ignore") || a.path().is_ident("should_panic"));
    function.attrs = own;
    let name = &function.sig.ident;
    let output = &function.sig.output;
    let width = count.to_string().len();
    let tests = (1..=count).map(|k| {
        let test = format_ident!("shard_{:0width$}_of_{}", k, count, span = name.span());
        quote! {
            #[::core::prelude::v1::test]
            #(#for_tests)*
            fn #test() #output {
                super::#name(#krate::Shard::new(#k, #count))
            }
        }
    });
    quote! {
        // Called only by the tests below, which exist only in a test build.
        #[cfg_attr(not(test), allow(dead_code))]
        #function

        /// The shards of the campaign function of the same name, one test each.
        #[cfg(test)]
        mod #name {
            // The return type, if any, is spelled as the user spelled it, in the parent's scope.
            #[allow(unused_imports)]
            use super::*;
            #(#tests)*
        }
    }
}

/// The shard count, from 1 to `MAX_SHARDS`.
fn count(lit: &LitInt, errors: &mut Errors) -> Option<u32> {
    match lit.base10_parse::<u32>() {
        Ok(n) if (1..=MAX_SHARDS).contains(&n) => Some(n),
        _ => {
            errors.push(syn::Error::new(
                lit.span(),
                format!("a campaign has 1 to {MAX_SHARDS} shards"),
            ));
            None
        }
    }
}

/// A plain function of one argument, which the tests can call with a `Shard`.
fn validate(function: &ItemFn, errors: &mut Errors) {
    let sig = &function.sig;
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new(
            a.span(),
            "a `shards` function cannot be `async`: call an async runner from a plain function",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "a `shards` function cannot be generic: each shard's test calls it as it is",
        ));
    }
    let typed = sig
        .inputs
        .iter()
        .filter(|a| matches!(a, FnArg::Typed(_)))
        .count();
    if typed != 1 || sig.inputs.len() != 1 {
        let span = match sig.inputs.is_empty() {
            true => sig.ident.span(),
            false => sig.inputs.span(),
        };
        errors.push(syn::Error::new(
            span,
            "a `shards` function takes one argument, its shard: `fn campaign(shard: stateprop::Shard)`",
        ));
    }
}
