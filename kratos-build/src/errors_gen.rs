//! Error helpers for enums annotated like Go Kratos's protoc-gen-go-errors:
//! `option (errors.default_code) = 500;` on the enum and
//! `[(errors.code) = 404]` on a value.

use heck::ToSnakeCase;
use quote::{format_ident, quote};

use crate::config::Builder;
use crate::model::Package;
use crate::tokens::{doc, ident, int, path, render};

/// Rust source for every annotated enum of `package`.
pub(crate) fn generate(builder: &Builder, package: &Package) -> String {
    let error = path(&format!("{}::Error", builder.runtime_path));
    let items = package.error_enums.iter().map(|e| {
        let name = ident(&e.rust_name);
        let default = int(e.default);
        let arms = e.values.iter().map(|(_, number, code)| {
            let code = int(*code);
            let magnitude = int(i64::from(*number).abs());
            if *number < 0 {
                quote!(-#magnitude => #code,)
            } else {
                quote!(#magnitude => #code,)
            }
        });
        let helpers = e.values.iter().map(|(value, _, code)| {
            let snake = value.to_snake_case();
            let is = format_ident!("is_{snake}");
            let make = format_ident!("error_{snake}");
            let is_doc = doc(&format!(
                "Whether `err` is the `{value}` error of `{name}` (same reason and code {code})."
            ));
            let make_doc = doc(&format!(
                "The `{value}` error of `{name}` (code {code}) with `message`."
            ));
            let code = int(*code);
            quote! {
                #is_doc
                pub fn #is(err: &#error) -> bool {
                    err.reason() == #value && err.code() == #code
                }

                #make_doc
                pub fn #make(message: impl Into<String>) -> #error {
                    #error::new(#code, #value, message)
                }
            }
        });
        let error_doc = doc(
            "The Kratos error for this reason: its code (from `(errors.code)` or\n\
             the enum's `(errors.default_code)`), the value's name as reason,\n\
             and `message`.",
        );
        let code_doc = doc("The HTTP status code of this reason.");
        quote! {
            impl #name {
                #error_doc
                pub fn error(&self, message: impl Into<String>) -> #error {
                    #error::new(self.code(), self.as_str_name(), message)
                }

                #code_doc
                pub fn code(&self) -> u16 {
                    match *self as i32 {
                        #(#arms)*
                        _ => #default,
                    }
                }
            }

            #(#helpers)*
        }
    });
    render(quote!(#(#items)*))
}
