//! Source text of an expression for messages ("precondition |m: &Kv| !m.map.is_empty()").
//!
//! `quote!(#expr).to_string()` spaces every token apart (`| m : & Kv |`), and the spacing
//! differs between compilers. Where the compiler tells where each token sits (rustc 1.88 and
//! later), tokens are joined as they were written; otherwise the quoted text is used.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

pub(crate) fn source_text(tokens: TokenStream) -> String {
    let fallback = tokens.to_string();
    let mut out = String::new();
    let mut last_end: Option<(usize, usize)> = None;
    if write_tokens(tokens, &mut out, &mut last_end).is_none() {
        return fallback;
    }
    out
}

/// Appends `tokens`, with a space only where the source had a gap. `None` if positions are
/// unknown (outside a proc macro or an older compiler).
fn write_tokens(
    tokens: TokenStream,
    out: &mut String,
    last_end: &mut Option<(usize, usize)>,
) -> Option<()> {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                let open_span = position(group.span_open())?;
                push(out, last_end, open_span, open);
                write_tokens(group.stream(), out, last_end)?;
                let close_span = position(group.span_close())?;
                push(out, last_end, close_span, close);
            }
            other => {
                let text = other.to_string();
                let span = position(other.span())?;
                push(out, last_end, span, &text);
            }
        }
    }
    Some(())
}

type Pos = ((usize, usize), (usize, usize));

fn push(out: &mut String, last_end: &mut Option<(usize, usize)>, (start, end): Pos, text: &str) {
    if let Some(prev) = *last_end {
        if prev != start && !out.is_empty() {
            out.push(' ');
        }
    }
    out.push_str(text);
    *last_end = Some(end);
}

fn position(span: proc_macro2::Span) -> Option<Pos> {
    if !proc_macro::is_available() {
        return None;
    }
    let span = span.unwrap();
    let (start, end) = (span.start(), span.end());
    if start.line() == 0 && end.line() == 0 {
        return None;
    }
    Some(((start.line(), start.column()), (end.line(), end.column())))
}
