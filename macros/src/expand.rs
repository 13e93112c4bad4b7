//! Code generation: the `StateMachine` impl (its JSON arms in `json`; the stub written on errors in
//! `fallback`).
//!
//! Generated code names the runtime only through `#krate::__private` (see `src/private.rs`), with
//! full paths, so nothing the user imports or shadows can change its meaning. Expressions written
//! by the user are emitted with their own spans (`quote_spanned!`), so a type error in a
//! precondition or a strategy points at that expression, not at the derive.

use crate::ast::{param_ident, Field, Input, PreArgs, Style, Variant};
use crate::{fallback, json, Errors};
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, Type};

pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let input = Input::from_syn(node, &mut errors);
    input.validate(&mut errors);
    let krate = match &input.attrs.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::stateprop),
    };
    match errors.finish() {
        Ok(()) => wrap(impl_state_machine(&input, &krate)),
        Err(err) => {
            let mut out = err.to_compile_error();
            // Without a model there is no `type Model` to write; with generics a stub would add
            // errors of its own. Otherwise the stub keeps the user's `impl Model` compiling, so
            // one mistake gives one message.
            if let (Some(model), true) = (&input.attrs.model, node.generics.params.is_empty()) {
                out.extend(wrap(fallback::stub(&input, model, &krate)));
            }
            out
        }
    }
}

fn wrap(item: TokenStream) -> TokenStream {
    quote! {
        const _: () = {
            #item
        };
    }
}

/// `where YourModel: Model<Op = Self>`, true whenever the derive is used correctly. Written out, a
/// missing or mismatched `impl Model` is reported once, on the `model = ...` type, instead of at
/// every signature and call that needs it.
pub(crate) fn model_bound(model: &Type, p: &TokenStream) -> TokenStream {
    let span = model.span();
    let p = respan(p, span);
    quote_spanned!(span=> where #model: #p::Model<Op = Self>)
}

/// The type of the `outputs` parameters: the model's outputs of the steps so far.
pub(crate) fn outputs_ty(p: &TokenStream) -> TokenStream {
    quote!(&[<Self::Model as #p::Model>::Output])
}

fn impl_state_machine(input: &Input, krate: &TokenStream) -> TokenStream {
    let ident = input.ident;
    let model = input.attrs.model.as_ref().expect("validated");
    let p = quote!(#krate::__private);
    let outputs = outputs_ty(&p);
    let variants = input.variants();
    let bound = model_bound(model, &p);

    let rules = variants.iter().map(|v| rule_info(v, &p));
    let rule_index = variants.iter().enumerate().map(|(i, v)| {
        let var = v.ident;
        quote!(Self::#var { .. } => #i,)
    });
    let enabled = variants
        .iter()
        .enumerate()
        .map(|(i, v)| enabled_arm(i, v, &p));
    let generate = variants
        .iter()
        .enumerate()
        .map(|(i, v)| generate_arm(i, v, &p));
    let set_arg = variants.iter().map(|v| set_arg_arm(v, &p));
    let bind_vars = variants.iter().map(|v| {
        vars_arm(v, |field, binding| {
            let inner = field.var.expect("var field");
            // Spanned at `T`, so a `Var<T>` whose `T` no output holds is reported there.
            let binding = syn::Ident::new(&binding.to_string(), inner.span());
            quote_spanned!(inner.span()=> #binding.bind_from(__outputs))
        })
    });
    let remap_vars = variants.iter().map(|v| {
        vars_arm(
            v,
            |field, binding| quote_spanned!(field.ty.span()=> #binding.remap(__map)),
        )
    });
    let uses_vars = variants.iter().any(|v| v.var_fields().next().is_some());
    let checks_args = variants
        .iter()
        .any(|v| !matches!(v.pre_args(), PreArgs::ModelOnly));
    let admits = variants.iter().map(admits_arm);
    let follow = crate::follow::methods(variants, &p);
    let consumes = consumes_items(input, &p);
    let to_rust = variants.iter().map(|v| to_rust_arm(input, v, &p));
    let to_json = variants.iter().map(|v| json::to_json_arm(v, &p));
    let from_json = variants.iter().map(|v| json::from_json_arm(v, &p));

    let enum_name = ident.to_string();
    let rule_count = variants.len();
    let known = variants
        .iter()
        .map(|v| format!("`{}`", v.name))
        .collect::<Vec<_>>()
        .join(", ");
    let unknown = format!("` for `{enum_name}`; expected one of {known}");

    let preconditions = variants.iter().filter_map(|v| precondition_item(v, model));

    quote! {
        #(#preconditions)*

        #[automatically_derived]
        impl #p::StateMachine for #ident #bound {
            type Model = #model;

            #[inline]
            fn rules() -> &'static [#p::RuleInfo] {
                const RULES: &[#p::RuleInfo] = &[#(#rules),*];
                RULES
            }

            #[inline]
            fn rule_index(&self) -> usize {
                match self {
                    #(#rule_index)*
                }
            }

            #[inline]
            fn enabled(__rule: usize, __model: &Self::Model, __outputs: #outputs) -> bool {
                let _ = (__model, __outputs);
                match __rule {
                    #(#enabled)*
                    _ => false,
                }
            }

            #[inline]
            fn generate(
                __rule: usize,
                __model: &Self::Model,
                __gen: &mut #p::Gen<'_, Self::Model>,
            ) -> #p::Result<Self, #p::String> {
                // Default strategies dispatch on these; a machine without integer fields (or
                // with only integer fields) leaves one unused.
                #[allow(unused_imports)]
                use #p::{
                    ArbitraryDefault as _, BoundaryDefault as _, FastArg as _, Mismatch as _,
                    SlowArg as _,
                };
                let _ = (__model, &__gen);
                match __rule {
                    #(#generate)*
                    _ => #p::Err(#p::format!(
                        "rule {} is out of range: `{}` has {} rules",
                        __rule,
                        #enum_name,
                        #rule_count,
                    )),
                }
            }

            fn set_arg(&mut self, __index: usize, __tree: &dyn #p::ArgTree) {
                let _ = (__index, __tree);
                match self {
                    #(#set_arg)*
                }
            }

            fn bind_vars<__L>(&mut self, __outputs: &__L) -> bool
            where
                __L: #p::Outputs<<Self::Model as #p::Model>::Output> + ?::core::marker::Sized,
            {
                let _ = __outputs;
                match self {
                    #(#bind_vars)*
                }
            }

            fn remap_vars(
                &mut self,
                __map: &mut dyn ::core::ops::FnMut(#p::StepId) -> #p::Option<#p::StepId>,
            ) -> bool {
                let _ = &__map;
                match self {
                    #(#remap_vars)*
                }
            }

            fn uses_vars() -> bool {
                #uses_vars
            }

            fn admits(&self, __model: &Self::Model) -> bool {
                let _ = __model;
                match self {
                    #(#admits)*
                }
            }

            fn checks_args() -> bool {
                #checks_args
            }

            #follow
            #consumes

            fn to_rust(&self) -> #p::String {
                use #p::{DebugFallback as _, RustFallback as _};
                match self {
                    #(#to_rust)*
                }
            }

            fn to_json(&self) -> #p::serde_json::Value {
                match self {
                    #(#to_json)*
                }
            }

            fn from_json(__value: &#p::serde_json::Value) -> #p::Result<Self, #p::String> {
                let (__name, __payload) = #p::split_tagged(__value)?;
                match __name {
                    #(#from_json)*
                    __other => #p::Err(#p::format!("unknown operation `{}{}", __other, #unknown)),
                }
            }
        }
    }
}

/// The local variable a match arm binds a field to.
pub(crate) fn binding(field: &Field) -> syn::Ident {
    syn::Ident::new(&format!("__field_{}", field.name), Span::call_site())
}

/// `Self::V { a: __field_a, 0: __field_0, .. }` binding the given fields.
pub(crate) fn pattern<'f, 'a: 'f>(
    v: &Variant,
    fields: impl Iterator<Item = &'f Field<'a>>,
) -> TokenStream {
    let var = v.ident;
    let bindings = fields.map(|f| {
        let member = &f.member;
        let binding = binding(f);
        quote!(#member: #binding,)
    });
    quote!(Self::#var { #(#bindings)* .. })
}

fn rule_info(v: &Variant, p: &TokenStream) -> TokenStream {
    let name = &v.name;
    let weight = v.attrs.weight.unwrap_or(1);
    let precondition = match &v.attrs.precondition {
        Some(precondition) => {
            let expr = &precondition.expr;
            let text = crate::text::source_text(quote!(#expr));
            quote!(#p::Some(#text))
        }
        None => quote!(#p::None),
    };
    let var_fields = v.var_fields().map(|f| &f.name);
    quote! {
        #p::RuleInfo {
            name: #name,
            weight: #weight,
            precondition: #precondition,
            var_fields: &[#(#var_fields),*],
        }
    }
}

/// The methods of a machine with `#[consumes]` fields: which results a step uses up, and
/// `enabled_among`, whose `Var` fields choose only among results not used up. A machine without
/// them keeps the trait's defaults, so its hot path does not change.
fn consumes_items(input: &Input, p: &TokenStream) -> TokenStream {
    let variants = input.variants();
    if variants
        .iter()
        .all(|v| v.consumed_fields().next().is_none())
    {
        return TokenStream::new();
    }
    let outputs = outputs_ty(p);
    let enabled = variants
        .iter()
        .enumerate()
        .map(|(i, v)| enabled_arm_among(i, v, p, true));
    let visits = variants.iter().map(|v| {
        let pattern = pattern(v, v.consumed_fields());
        let visits = v.consumed_fields().map(|f| {
            let binding = binding(f);
            quote!(__visit(#binding.id());)
        });
        quote!(#pattern => { #(#visits)* })
    });
    quote! {
        #[inline]
        fn enabled_among(
            __rule: usize,
            __model: &Self::Model,
            __outputs: #outputs,
            __consumed: &#p::Consumed,
        ) -> bool {
            let _ = (__model, __outputs, __consumed);
            match __rule {
                #(#enabled)*
                _ => false,
            }
        }

        fn consumes_vars() -> bool {
            true
        }

        fn consumed_vars(&self, __visit: &mut dyn ::core::ops::FnMut(#p::StepId)) {
            let _ = &__visit;
            match self {
                #(#visits)*
            }
        }
    }
}

fn enabled_arm(index: usize, v: &Variant, p: &TokenStream) -> TokenStream {
    enabled_arm_among(index, v, p, false)
}

/// An arm of `enabled`, or (`among`) of `enabled_among`, whose `Var` fields see only the
/// results not in `__consumed`.
fn enabled_arm_among(index: usize, v: &Variant, p: &TokenStream, among: bool) -> TokenStream {
    let mut checks = Vec::new();
    let pre_args = v.pre_args();
    // A precondition over arguments is checked by generation, which draws them.
    if let (Some(precondition), PreArgs::ModelOnly) = (&v.attrs.precondition, &pre_args) {
        let span = precondition.key;
        let p = respan(p, span);
        let expr = &precondition.expr;
        checks.push(quote_spanned!(span=> #p::precondition(#expr, __model)));
    }
    for field in v.var_fields() {
        let inner = field.var.expect("var field");
        match &pre_args {
            PreArgs::OneVar(f) if f.name == field.name && among => {
                let pre = precondition_fn(v);
                checks.push(quote_spanned! {inner.span()=>
                    #p::Gen::<Self::Model>::has_live_var_where::<#inner>(
                        __outputs,
                        __consumed,
                        |__v| (#pre)(__model, __v),
                    )
                });
            }
            PreArgs::OneVar(f) if f.name == field.name => {
                let pre = precondition_fn(v);
                checks.push(quote_spanned! {inner.span()=>
                    #p::Gen::<Self::Model>::has_var_where::<#inner>(
                        __outputs,
                        |__v| (#pre)(__model, __v),
                    )
                });
            }
            _ if among => checks.push(quote_spanned! {inner.span()=>
                #p::Gen::<Self::Model>::has_live_var::<#inner>(__outputs, __consumed)
            }),
            _ => checks.push(quote_spanned! {inner.span()=>
                #p::Gen::<Self::Model>::has_var::<#inner>(__outputs)
            }),
        }
    }
    if checks.is_empty() {
        checks.push(quote!(true));
    }
    quote!(#index => #(#checks)&&*,)
}

/// The function that checks a precondition over arguments, written once per rule (see
/// [`precondition_item`]) so a mistake in it is reported once.
fn precondition_fn(v: &Variant) -> TokenStream {
    let name = precondition_name(v);
    quote!(#name)
}

fn precondition_name(v: &Variant) -> syn::Ident {
    syn::Ident::new(
        &format!("__stateprop_precondition_{}", v.name),
        Span::call_site(),
    )
}

/// `fn(&Model, &A, ...) -> bool` calling a precondition over arguments; passing the closure
/// through a function with that bound gives an unannotated closure its parameter types.
fn precondition_item(v: &Variant, model: &Type) -> Option<TokenStream> {
    let fields = match v.pre_args() {
        PreArgs::ModelOnly => return None,
        PreArgs::OneVar(f) => vec![f],
        PreArgs::Fields(fields) => fields,
    };
    let pre = v.attrs.precondition.as_ref().expect("a precondition");
    let span = pre.key;
    let expr = &pre.expr;
    let name = precondition_name(v);
    let tys: Vec<_> = fields.iter().map(|f| f.ty).collect();
    let args: Vec<_> = (0..fields.len())
        .map(|i| syn::Ident::new(&format!("__arg{i}"), Span::call_site()))
        .collect();
    let check = quote_spanned! {span=>
        {
            #[inline(always)]
            fn __precondition<__F: ::core::ops::Fn(&#model #(, &#tys)*) -> bool>(f: __F) -> __F {
                f
            }
            __precondition(#expr)
        }
    };
    Some(quote! {
        #[allow(non_snake_case)]
        #[inline]
        fn #name(__model: &#model #(, #args: &#tys)*) -> bool {
            (#check)(__model #(, #args)*)
        }
    })
}

/// How many times generation draws a rule's arguments before its precondition over them is
/// given up on.
const ARG_TRIES: u32 = 100;

fn admits_arm(v: &Variant) -> TokenStream {
    let fields = match v.pre_args() {
        PreArgs::ModelOnly => {
            let pattern = pattern(v, std::iter::empty());
            return quote!(#pattern => true,);
        }
        PreArgs::OneVar(f) => vec![f],
        PreArgs::Fields(fields) => fields,
    };
    let pattern = pattern(v, fields.iter().copied());
    let pre = precondition_fn(v);
    let bindings = fields.iter().map(|f| binding(f));
    quote!(#pattern => (#pre)(__model #(, #bindings)*),)
}

fn generate_arm(index: usize, v: &Variant, p: &TokenStream) -> TokenStream {
    let var = v.ident;
    let pre_args = v.pre_args();
    let dependent = v.fields.iter().any(|f| {
        f.strategy
            .as_ref()
            .and_then(|s| crate::ast::closure(&s.expr))
            .is_some_and(|c| c.inputs.len() > 1)
    });
    if !dependent && !matches!(pre_args, PreArgs::Fields(_)) {
        let fields = v.fields.iter().map(|field| {
            let member = &field.member;
            let value = generate_field(v, field, &pre_args, p);
            quote!(#member: #value,)
        });
        // A struct expression evaluates its fields in source order, so values are drawn in
        // declaration order whatever the variant's style.
        return quote!(#index => #p::Ok(Self::#var { #(#fields)* }),);
    }
    // Fields drawn one `let` at a time, in declaration order, so a strategy can read the
    // fields drawn before it.
    let lets = v
        .fields
        .iter()
        .map(|field| {
            let binding = binding(field);
            let value = generate_field(v, field, &pre_args, p);
            quote!(#[allow(unused_mut)] let mut #binding = #value;)
        })
        .collect::<Vec<_>>();
    let build = {
        let members = v.fields.iter().map(|f| {
            let member = &f.member;
            let binding = binding(f);
            quote!(#member: #binding,)
        });
        quote!(Self::#var { #(#members)* })
    };
    let PreArgs::Fields(fields) = &pre_args else {
        return quote!(#index => { #(#lets)* #p::Ok(#build) },);
    };
    let pre = precondition_fn(v);
    let binds = v.var_fields().map(|f| {
        let binding = binding(f);
        quote!(&& __gen.bind(&mut #binding))
    });
    let unbind = v.var_fields().map(|f| {
        let binding = binding(f);
        quote!(#binding = #p::Var::to(#binding.id());)
    });
    let args = fields.iter().map(|f| binding(f));
    let name = &v.name;
    let message = format!(
        "the precondition of `{name}` held for none of {ARG_TRIES} sets of arguments drawn; \
         draw arguments that satisfy it with their strategies"
    );
    quote! {
        #index => {
            let __pre = #pre;
            let __mark = __gen.mark();
            for _ in 0..#ARG_TRIES {
                __gen.rewind(__mark);
                #(#lets)*
                if true #(#binds)* && __pre(__model #(, &#args)*) {
                    // Generated operations hold unbound vars, whatever bound them to check.
                    #(#unbind)*
                    return #p::Ok(#build);
                }
            }
            #p::Err(#p::String::from(#message))
        }
    }
}

fn generate_field(v: &Variant, field: &Field, pre_args: &PreArgs, p: &TokenStream) -> TokenStream {
    let name = &field.name;
    let ty = field.ty;
    if let Some(inner) = field.var {
        if let PreArgs::OneVar(f) = pre_args {
            if f.name == field.name {
                let pre = precondition_fn(v);
                return quote_spanned! {inner.span()=>
                    {
                        let __pre = #pre;
                        __gen.var_where::<#inner>(#name, |__v| __pre(__model, __v))?
                    }
                };
            }
        }
        return quote_spanned!(inner.span()=> __gen.var::<#inner>(#name)?);
    }
    // The helpers take the field's type, so a strategy of another value type fails on the
    // strategy's own tokens, and "required by this call" points at `strategy`.
    match &field.strategy {
        Some(strategy) if model_closure(&strategy.expr).is_some() => {
            let span = strategy.original.path().span();
            let closure = model_closure(&strategy.expr).expect("checked above");
            let p = respan(p, span);
            // The closure's body is inlined with its parameter bound to the model, rather than
            // called: a called closure cannot return a strategy that borrows its argument
            // (`|m: &Kv| pick(m.map.keys())`), while a `let` binding can lend for the whole step.
            // Later parameters are fields drawn before this one (validated), lent the same way.
            let param = &closure.inputs[0];
            let earlier = closure.inputs.iter().skip(1).map(|param| {
                let field = param_ident(param)
                    .and_then(|ident| v.field(ident))
                    .expect("validated: names an earlier field");
                let value = binding(field);
                quote_spanned!(param.span()=> let #param = &#value;)
            });
            let body = &closure.body;
            let model = quote_spanned!(param.span()=> __model);
            quote_spanned! {span=>
                {
                    #[allow(unused_variables, clippy::needless_borrow)]
                    let #param = #model;
                    #(#[allow(unused_variables)] #earlier)*
                    let __strategy = #p::arg::<Self::Model, #ty, _>(__gen, #name, #body);
                    (&&&__strategy).draw_arg(__gen, #name)?
                }
            }
        }
        Some(strategy) => {
            let span = strategy.original.path().span();
            let p = respan(p, span);
            let expr = &strategy.expr;
            quote_spanned! {span=>
                {
                    let __strategy = #p::arg::<Self::Model, #ty, _>(__gen, #name, #expr);
                    (&&&__strategy).draw_arg(__gen, #name)?
                }
            }
        }
        None => {
            let span = ty.span();
            let p = respan(p, span);
            // Integers get a boundary-biased strategy, everything else `any::<T>()` (see
            // `src/strategy.rs` for the autoref dispatch; `generate` imports both traits).
            quote_spanned! {span=>
                {
                    let __strategy = #p::arg::<Self::Model, #ty, _>(
                        __gen,
                        #name,
                        (&#p::DefaultFor::<#ty>::new()).default_strategy(),
                    );
                    (&&&__strategy).draw_arg(__gen, #name)?
                }
            }
        }
    }
}

/// `tokens` with every span set to `span`, so a call built from them is reported as one piece.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut respanned = Group::new(group.delimiter(), respan(&group.stream(), span));
                respanned.set_span(span);
                token = TokenTree::Group(respanned);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The closure of a strategy that reads the model, `#[strategy(|m: &Model| pick(m.keys()))]`,
/// and possibly fields drawn before it, `#[strategy(|m: &Model, lo: &u32| *lo..=100)]`.
fn model_closure(expr: &Expr) -> Option<&syn::ExprClosure> {
    crate::ast::closure(expr).filter(|c| !c.inputs.is_empty())
}

fn set_arg_arm(v: &Variant, p: &TokenStream) -> TokenStream {
    let pattern = pattern(v, v.generated_fields());
    let arms = v.generated_fields().enumerate().map(|(i, field)| {
        let binding = binding(field);
        let ty = field.ty;
        quote! {
            #i => {
                if let #p::Some(__value) = #p::TreeBox::<#ty>::current_of(__tree) {
                    *#binding = __value;
                }
            }
        }
    });
    if v.generated_fields().next().is_none() {
        return quote!(#pattern => {});
    }
    quote! {
        #pattern => match __index {
            #(#arms)*
            _ => {}
        },
    }
}

/// An arm of `bind_vars` / `remap_vars`: `call` on every `Var` field, all of them called, and
/// the results and-ed.
fn vars_arm(v: &Variant, call: impl Fn(&Field, &syn::Ident) -> TokenStream) -> TokenStream {
    let pattern = pattern(v, v.var_fields());
    let calls: Vec<_> = v.var_fields().map(|f| call(f, &binding(f))).collect();
    if calls.is_empty() {
        return quote!(#pattern => true,);
    }
    // `&`, not `&&`: every var is updated even after one fails.
    quote!(#pattern => #(#calls)&*,)
}

fn to_rust_arm(input: &Input, v: &Variant, p: &TokenStream) -> TokenStream {
    let pattern = pattern(v, v.fields.iter());
    let prefix = format!("{}::{}", input.ident, v.ident);
    let values = v.fields.iter().map(|f| {
        let binding = binding(f);
        quote!((&#p::RustWrap(#binding)).__to_rust())
    });
    let format = match v.style {
        Style::Unit => return quote!(#pattern => #p::String::from(#prefix),),
        Style::Named if v.fields.is_empty() => format!("{prefix} {{{{}}}}"),
        Style::Named => {
            let fields: Vec<String> = v
                .fields
                .iter()
                .map(|f| format!("{}: {{}}", f.member.to_token_stream()))
                .collect();
            format!("{prefix} {{{{ {} }}}}", fields.join(", "))
        }
        Style::Tuple => {
            let fields = vec!["{}"; v.fields.len()];
            format!("{prefix}({})", fields.join(", "))
        }
    };
    quote!(#pattern => #p::format!(#format, #(#values),*),)
}
