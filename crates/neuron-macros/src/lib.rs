//! `#[derive(Synapse)]` for `hyphae-neuron`: implements `hyphae_neuron::synapse::Synapse` for a
//! struct with named fields. Use it through `hyphae_neuron::synapse::Synapse` (re-exported there).
//!
//! * The synapse name (and route) is the type name, like the Python class name.
//! * `#[synapse(hash(a, b, c))]` on the struct lists `required_hash_fields`, in order.
//! * Required fields (no default in the Python model, so they get a `bt_header_input_obj_*`
//!   placeholder) are inferred: a field is required unless its type is `Option<…>` or it has a
//!   `#[serde(default…)]` attribute (or the struct has `#[serde(default)]`). Override with
//!   `#[synapse(required)]` or `#[synapse(optional)]` on the field.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, Ident, Type};

/// Derives `hyphae_neuron::synapse::Synapse`; see the crate docs.
#[proc_macro_derive(Synapse, attributes(synapse))]
pub fn derive_synapse(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn has_serde_default(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|attr| {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    found = true;
                }
                // Skip values such as `default = "path"` or `rename = "x"`.
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _content;
                    syn::parenthesized!(_content in meta.input);
                    let _: proc_macro2::TokenStream = _content.parse()?;
                }
                Ok(())
            });
            found
        })
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Option"),
        _ => false,
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "Synapse can only be derived for structs",
        ));
    };
    let fields: Vec<&syn::Field> = match &data.fields {
        Fields::Named(named) => named.named.iter().collect(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(name, "Synapse needs named fields"));
        }
    };

    let mut hash: Vec<Ident> = Vec::new();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("synapse")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("hash") {
                meta.parse_nested_meta(|field| {
                    let ident = field
                        .path
                        .get_ident()
                        .cloned()
                        .ok_or_else(|| field.error("expected a field name"))?;
                    hash.push(ident);
                    Ok(())
                })
            } else {
                Err(meta.error("expected `hash(...)`"))
            }
        })?;
    }
    for ident in &hash {
        if !fields.iter().any(|f| f.ident.as_ref() == Some(ident)) {
            return Err(syn::Error::new_spanned(ident, "no such field"));
        }
    }

    let container_default = has_serde_default(&input.attrs);
    let mut required = Vec::new();
    for field in &fields {
        let Some(ident) = &field.ident else { continue };
        let mut explicit: Option<bool> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("synapse")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("required") {
                    explicit = Some(true);
                    Ok(())
                } else if meta.path.is_ident("optional") {
                    explicit = Some(false);
                    Ok(())
                } else {
                    Err(meta.error("expected `required` or `optional`"))
                }
            })?;
        }
        let inferred =
            !container_default && !is_option(&field.ty) && !has_serde_default(&field.attrs);
        if explicit.unwrap_or(inferred) {
            required.push(ident.clone());
        }
    }

    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let name_text = name.to_string();
    let hash_names = hash.iter().map(Ident::to_string);
    let required_names = required.iter().map(Ident::to_string);
    Ok(quote! {
        impl #impl_generics ::hyphae_neuron::synapse::Synapse for #name #type_generics #where_clause {
            const NAME: &'static str = #name_text;
            const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[#(#hash_names),*];
            fn hash_values(&self) -> ::std::vec::Vec<::hyphae_neuron::pyrepr::PyValue> {
                ::std::vec![#(::hyphae_neuron::synapse::ToPyValue::to_py_value(&self.#hash)),*]
            }
            fn required_placeholders() -> ::std::vec::Vec<(&'static str, &'static str)> {
                ::std::vec![#(
                    (#required_names, ::hyphae_neuron::synapse::placeholder_of(|s: &Self| &s.#required))
                ),*]
            }
        }
    })
}
