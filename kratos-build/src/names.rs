//! The Rust names the generated code derives from proto names, as prost and
//! tonic write them.
//!
//! Tools that write code against what a build generates (the `kratos proto
//! server` stubs) call these so that they name exactly what the build wrote:
//!
//! ```
//! use kratos_build::names::{snake_ident, tonic_snake, type_ident};
//!
//! assert_eq!(snake_ident("CreateOrder"), "create_order");
//! assert_eq!(snake_ident("Type"), "r#type");
//! assert_eq!(type_ident("orderReply"), "OrderReply");
//! assert_eq!(tonic_snake("OrderService"), "order_service");
//! ```

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust's keywords, strict and reserved, of every edition: none of them can
/// name a module or a function as they are.
pub const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// A snake_case identifier (a method, field or module) as prost writes it:
/// `r#type` for a keyword, `self_` for the keywords a raw identifier cannot
/// spell.
pub fn snake_ident(name: &str) -> String {
    let snake = name.to_snake_case();
    match snake.as_str() {
        "self" | "super" | "crate" => format!("{snake}_"),
        s if KEYWORDS.contains(&s) => format!("r#{snake}"),
        _ => snake,
    }
}

/// A type name (a message, enum or service trait) as prost writes it.
pub fn type_ident(name: &str) -> String {
    let camel = name.to_upper_camel_case();
    if camel == "Self" {
        "Self_".to_owned()
    } else {
        camel
    }
}

/// The module tonic gives a service (`order_service` for `OrderService`),
/// without its `_server`, `_http` or `_grpc` suffix.
pub fn tonic_snake(name: &str) -> String {
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c.to_ascii_lowercase());
        if chars.peek().is_some_and(|n| n.is_uppercase()) {
            out.push('_');
        }
    }
    out
}
