//! Helpers for emitting Rust with `quote!`: identifiers and paths from the
//! names the model holds, doc attributes, and printing with prettyplease.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;

/// An identifier; `r#type` becomes a raw identifier.
pub(crate) fn ident(name: &str) -> syn::Ident {
    match name.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, Span::call_site()),
        None => syn::Ident::new(name, Span::call_site()),
    }
}

/// A type or path written as text by the model (`super::Order`,
/// `::pbjson_types::Empty`).
pub(crate) fn ty(path: &str) -> syn::Type {
    syn::parse_str(path).unwrap_or_else(|e| panic!("kratos-build made a bad type `{path}`: {e}"))
}

/// A path (`::kratos_transport::http::codegen`).
pub(crate) fn path(path: &str) -> syn::Path {
    syn::parse_str(path).unwrap_or_else(|e| panic!("not a Rust path: `{path}`: {e}"))
}

/// `#[doc = " line"]` for each line of `text` (printed as `/// line`).
pub(crate) fn doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// An unsuffixed integer literal (`1`, not `1u32`).
pub(crate) fn int(value: impl Into<i64>) -> Literal {
    Literal::i64_unsuffixed(value.into())
}

/// The imports and the contract check every generated module starts with.
pub(crate) fn module_prelude(runtime: &str) -> TokenStream {
    let runtime = path(runtime);
    let contract = int(crate::CODEGEN_CONTRACT);
    quote! {
        #[allow(unused_imports)]
        use #runtime as rt;
        #[allow(unused_imports)]
        use rt::validation::{ByRules as _, NoRules as _};
        const _: () = rt::require_contract(#contract);
    }
}

/// Prints `items` as a Rust file, formatted by prettyplease.
pub(crate) fn render(items: TokenStream) -> String {
    if items.is_empty() {
        return String::new();
    }
    let file: syn::File = syn::parse2(items.clone())
        .unwrap_or_else(|e| panic!("kratos-build generated invalid Rust ({e}):\n{items}"));
    format!("\n{}", prettyplease::unparse(&file))
}
