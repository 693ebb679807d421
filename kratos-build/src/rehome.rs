//! Points the paths of generated code at the crates a facade re-exports:
//! prost-build, tonic and pbjson write `::prost::…`, `tonic::…`,
//! `serde::…`, which resolve only in a crate that depends on those crates
//! itself. With [`Builder::dependencies`](crate::Builder::dependencies)
//! (`::kratos::__codegen` by default) each such path becomes
//! `::kratos::__codegen::prost::…`, so a service depends on the facade alone.

/// The crates whose paths are rewritten.
const CRATES: [&str; 9] = [
    "prost",
    "tonic",
    "tonic_prost",
    "pbjson",
    "pbjson_types",
    "serde",
    "serde_json",
    "axum",
    "http",
];

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `code` with every path rooted at one of [`CRATES`] (`tonic::…` or
/// `::tonic::…`, not `super::tonic::…` or `my_tonic::…`) rooted at `under`.
pub(crate) fn rehome(code: &str, under: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 8);
    let mut rest = code;
    'scan: while !rest.is_empty() {
        for name in CRATES {
            for absolute in [true, false] {
                let prefix = if absolute { "::" } else { "" };
                let Some(tail) = rest
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix(name))
                    .and_then(|r| r.strip_prefix("::"))
                else {
                    continue;
                };
                let before = out.chars().next_back();
                let starts_path = match before {
                    None => true,
                    // `::name::` is absolute after anything but an identifier;
                    // `name::` is a root only after neither an identifier nor `:`.
                    Some(c) if absolute => !is_ident(c),
                    Some(c) => !is_ident(c) && c != ':',
                };
                if starts_path {
                    out.push_str(under);
                    out.push_str("::");
                    out.push_str(name);
                    out.push_str("::");
                    rest = tail;
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rehome;

    #[test]
    fn roots_move_and_other_paths_stay() {
        let code = "#[derive(Clone, ::prost::Message)]\nuse tonic::codegen::*;\nimpl serde::Serialize for X {}\n\
                    super::tonic::x; my_serde::y; a::http::b; <T as ::http::Y>; (pbjson::private::Z)";
        assert_eq!(
            rehome(code, "::k::__codegen"),
            "#[derive(Clone, ::k::__codegen::prost::Message)]\nuse ::k::__codegen::tonic::codegen::*;\n\
             impl ::k::__codegen::serde::Serialize for X {}\n\
             super::tonic::x; my_serde::y; a::http::b; <T as ::k::__codegen::http::Y>; (::k::__codegen::pbjson::private::Z)"
        );
    }

    #[test]
    fn the_longest_name_wins() {
        assert_eq!(
            rehome("tonic_prost::ProstCodec", "::k"),
            "::k::tonic_prost::ProstCodec"
        );
        assert_eq!(
            rehome("pbjson_types::Timestamp", "::k"),
            "::k::pbjson_types::Timestamp"
        );
    }
}
