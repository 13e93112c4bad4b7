//! The JSON of operations: `to_json` and `from_json` arms, one per variant, in serde's externally
//! tagged form (`{"Put": {"key": 1, "value": 7}}`, `"Get"` for a unit variant), with error messages
//! that name the variant and show the expected shape.

use crate::ast::{Field, Style, Variant};
use crate::expand::{binding, pattern};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn to_json_arm(v: &Variant, p: &TokenStream) -> TokenStream {
    let pattern = pattern(v, v.fields.iter());
    let name = &v.name;
    let json = quote!(#p::serde_json);
    let field_json = |f: &Field| {
        let binding = binding(f);
        let ty = f.ty;
        quote_spanned!(ty.span()=> #p::to_json::<#ty>(#binding))
    };
    let payload = match v.style {
        Style::Unit => {
            return quote!(#pattern => #json::Value::String(#p::String::from(#name)),);
        }
        Style::Named => {
            let inserts = v.fields.iter().map(|f| {
                let key = &f.name;
                let value = field_json(f);
                quote!(__fields.insert(#p::String::from(#key), #value);)
            });
            quote! {{
                let mut __fields = #json::Map::new();
                #(#inserts)*
                #json::Value::Object(__fields)
            }}
        }
        Style::Tuple if v.fields.len() == 1 => field_json(&v.fields[0]),
        Style::Tuple => {
            let values = v.fields.iter().map(field_json);
            quote!(#json::Value::Array(#p::Vec::from([#(#values),*])))
        }
    };
    quote! {
        #pattern => {
            let mut __tagged = #json::Map::new();
            __tagged.insert(#p::String::from(#name), #payload);
            #json::Value::Object(__tagged)
        }
    }
}

pub(crate) fn from_json_arm(v: &Variant, p: &TokenStream) -> TokenStream {
    let var = v.ident;
    let name = &v.name;
    let json = quote!(#p::serde_json);
    let err = |message: String| quote!(#p::Err(#p::String::from(#message)));

    if v.fields.is_empty() {
        let shape = match v.style {
            Style::Unit => "no fields",
            Style::Named => "no fields (`{}`)",
            Style::Tuple => "no fields (`[]`)",
        };
        let wrong = format!("`{name}` takes {shape}, found ");
        return quote! {
            #name => match __payload {
                #p::None | #p::Some(#json::Value::Null) => #p::Ok(Self::#var {}),
                #p::Some(#json::Value::Object(__fields)) if __fields.is_empty() => {
                    #p::Ok(Self::#var {})
                }
                #p::Some(#json::Value::Array(__items)) if __items.is_empty() => {
                    #p::Ok(Self::#var {})
                }
                #p::Some(__other) => #p::Err(#p::format!("{}{}", #wrong, __other)),
            },
        };
    }

    let ty_span = |f: &Field| f.ty.span();
    match v.style {
        Style::Named => {
            let names: Vec<&String> = v.fields.iter().map(|f| &f.name).collect();
            let fields = v.fields.iter().map(|f| {
                let member = &f.member;
                let key = &f.name;
                let ty = f.ty;
                let read = quote_spanned! {ty_span(f)=>
                    #p::field_from_json::<#ty>(__fields, #name, #key)?
                };
                quote!(#member: #read,)
            });
            let listed = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let example = names
                .iter()
                .map(|n| format!("\"{n}\": ..."))
                .collect::<Vec<_>>()
                .join(", ");
            let stray_head = "unknown field `";
            let stray_tail = format!("` in `{name}`; its fields are {listed}");
            let wrong = format!(
                "`{name}` takes an object of its fields, like {{\"{name}\": {{{example}}}}}, found "
            );
            let missing = err(format!(
                "`{name}` needs its fields: write {{\"{name}\": {{{example}}}}}"
            ));
            quote! {
                #name => match __payload {
                    #p::Some(#json::Value::Object(__fields)) => {
                        for __key in __fields.keys() {
                            match __key.as_str() {
                                #(#names)|* => {}
                                __other => {
                                    return #p::Err(#p::format!(
                                        "{}{}{}",
                                        #stray_head,
                                        __other,
                                        #stray_tail,
                                    ));
                                }
                            }
                        }
                        #p::Ok(Self::#var { #(#fields)* })
                    }
                    #p::Some(__other) => #p::Err(#p::format!("{}{}", #wrong, __other)),
                    #p::None => #missing,
                },
            }
        }
        Style::Tuple if v.fields.len() == 1 => {
            let ty = v.fields[0].ty;
            let read = quote_spanned! {ty_span(&v.fields[0])=>
                #p::from_json::<#ty>(__field, #name, 0)?
            };
            let missing = err(format!(
                "`{name}` needs its field: write {{\"{name}\": ...}}"
            ));
            quote! {
                #name => match __payload {
                    #p::Some(__field) => #p::Ok(Self::#var { 0: #read }),
                    #p::None => #missing,
                },
            }
        }
        Style::Tuple | Style::Unit => {
            let count = v.fields.len();
            let fields = v.fields.iter().enumerate().map(|(i, f)| {
                let member = &f.member;
                let ty = f.ty;
                let read = quote_spanned! {ty_span(f)=>
                    #p::from_json::<#ty>(&__items[#i], #name, #i)?
                };
                quote!(#member: #read,)
            });
            let example = vec!["..."; count].join(", ");
            let wrong = format!("`{name}` takes an array of its {count} fields, found ");
            let missing = err(format!(
                "`{name}` needs its fields: write {{\"{name}\": [{example}]}}"
            ));
            quote! {
                #name => match __payload {
                    #p::Some(#json::Value::Array(__items)) if __items.len() == #count => {
                        #p::Ok(Self::#var { #(#fields)* })
                    }
                    #p::Some(__other) => #p::Err(#p::format!("{}{}", #wrong, __other)),
                    #p::None => #missing,
                },
            }
        }
    }
}
