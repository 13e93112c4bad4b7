//! Implementation detail of `stateprop`: the `StateMachine` derive.
use proc_macro::TokenStream;

/// See the `stateprop` crate.
#[proc_macro_derive(StateMachine, attributes(state_machine, rule, strategy))]
pub fn derive_state_machine(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
