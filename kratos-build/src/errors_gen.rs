//! Error helpers for enums annotated like Go Kratos's protoc-gen-go-errors:
//! `option (errors.default_code) = 500;` on the enum and
//! `[(errors.code) = 404]` on a value.

use std::fmt::Write as _;

use heck::ToSnakeCase;

use crate::config::Builder;
use crate::model::Package;

/// Rust source for every annotated enum of `package`.
pub(crate) fn generate(builder: &Builder, package: &Package) -> String {
    let error = format!("{}::Error", builder.runtime_path);
    let mut out = String::new();
    for e in &package.error_enums {
        let name = &e.rust_name;
        let _ = writeln!(
            out,
            "\nimpl {name} {{\n    /// The Kratos error for this reason: its code (from `(errors.code)` or\n    /// the enum's `(errors.default_code)`), the value's name as reason,\n    /// and `message`.\n    pub fn error(&self, message: impl Into<String>) -> {error} {{\n        {error}::new(self.code(), self.as_str_name(), message)\n    }}\n\n    /// The HTTP status code of this reason.\n    pub fn code(&self) -> u16 {{\n        match *self as i32 {{"
        );
        let default = e.default;
        for (_, number, code) in &e.values {
            let _ = writeln!(out, "            {number} => {code},");
        }
        let _ = writeln!(out, "            _ => {default},\n        }}\n    }}\n}}");
        for (value, _, code) in &e.values {
            let snake = value.to_snake_case();
            let _ = writeln!(
                out,
                "\n/// Whether `err` is the `{value}` error of `{name}` (same reason and code {code}).\npub fn is_{snake}(err: &{error}) -> bool {{\n    err.reason() == {value:?} && err.code() == {code}\n}}\n\n/// The `{value}` error of `{name}` (code {code}) with `message`.\npub fn error_{snake}(message: impl Into<String>) -> {error} {{\n    {error}::new({code}, {value:?}, message)\n}}"
            );
        }
    }
    out
}
