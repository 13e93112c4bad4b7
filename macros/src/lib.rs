//! Implementation detail of `stateprop`: the `StateMachine` derive, and `#[shards(n)]` (in
//! `shards`), which writes one test per shard of a campaign.
//!
//! The pipeline: `attr` parses the derive's attributes, `ast` builds its view of the enum,
//! `valid` checks what cannot be derived and `expand` writes the impl, with `json` writing the
//! operations' JSON code; on error, `fallback` writes a stub next to the errors, so that one
//! mistake gives one message.

mod ast;
mod attr;
mod expand;
mod fallback;
mod follow;
mod json;
mod shards;
mod text;
mod valid;

use proc_macro::TokenStream;

/// See the `stateprop` crate.
#[proc_macro_derive(StateMachine, attributes(state_machine, rule, strategy, consumes))]
pub fn derive_state_machine(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// (Written by `stateprop-macros`.)
#[proc_macro_attribute]
pub fn shards(args: TokenStream, item: TokenStream) -> TokenStream {
    shards::expand(args.into(), item.into()).into()
}

/// Errors collected along the pipeline, reported together in source order.
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.0.extend(error);
    }

    /// All errors combined into one, ordered by where they point; the pipeline finds them
    /// phase by phase, but a user reads the file top to bottom.
    pub(crate) fn finish(mut self) -> syn::Result<()> {
        if proc_macro::is_available() {
            self.0.sort_by_key(|e| {
                let span = e.span().unwrap();
                (span.line(), span.column())
            });
        }
        let mut errors = self.0.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(errors);
                Err(first)
            }
        }
    }
}
