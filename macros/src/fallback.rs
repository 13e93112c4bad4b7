//! The stub written next to the errors when the input cannot be derived: an impl with the right
//! `type Model` and every method `unreachable!()`, so the user's `impl Model` and the code that
//! uses the enum keep compiling and one mistake gives one message.

use crate::ast::Input;
use crate::expand::{model_bound, outputs_ty};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Type;

pub(crate) fn stub(input: &Input, model: &Type, krate: &TokenStream) -> TokenStream {
    let ident = input.ident;
    let p = quote!(#krate::__private);
    let outputs = outputs_ty(&p);
    let bound = model_bound(model, &p);
    quote! {
        #[automatically_derived]
        impl #p::StateMachine for #ident #bound {
            type Model = #model;
            fn rules() -> &'static [#p::RuleInfo] { ::core::unreachable!() }
            fn rule_index(&self) -> usize { ::core::unreachable!() }
            fn enabled(_: usize, _: &Self::Model, _: #outputs) -> bool { ::core::unreachable!() }
            fn generate(
                _: usize,
                _: &Self::Model,
                _: &mut #p::Gen<'_, Self::Model>,
            ) -> #p::Result<Self, #p::String> {
                ::core::unreachable!()
            }
            fn set_arg(&mut self, _: usize, _: &dyn #p::ArgTree) { ::core::unreachable!() }
            fn bind_vars<__L>(&mut self, _: &__L) -> bool
            where
                __L: #p::Outputs<<Self::Model as #p::Model>::Output> + ?::core::marker::Sized,
            {
                ::core::unreachable!()
            }
            fn remap_vars(
                &mut self,
                _: &mut dyn ::core::ops::FnMut(#p::StepId) -> #p::Option<#p::StepId>,
            ) -> bool {
                ::core::unreachable!()
            }
            fn uses_vars() -> bool { ::core::unreachable!() }
            fn to_rust(&self) -> #p::String { ::core::unreachable!() }
            fn to_json(&self) -> #p::serde_json::Value { ::core::unreachable!() }
            fn from_json(_: &#p::serde_json::Value) -> #p::Result<Self, #p::String> {
                ::core::unreachable!()
            }
        }
    }
}
