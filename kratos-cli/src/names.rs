//! Names: what a project, a proto package part or a file may be called, and
//! the Rust names prost and tonic (through kratos-build) derive from proto
//! names, so the stubs name exactly what the build generates.

use heck::{ToSnakeCase, ToUpperCamelCase};
use kratos_build::names::KEYWORDS;

use crate::error::Error;

/// A project name: a cargo package and binary name that is also a usable
/// proto package part once `-` becomes `_`.
pub(crate) fn check_project(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(Error::new(format!(
            "`{name}` is not a project name: use lowercase letters, digits, `-` and `_`, starting with a letter (such as `helloworld` or `user-service`)"
        )));
    }
    let ident = name.replace('-', "_");
    if KEYWORDS.contains(&ident.as_str())
        || ["test", "kratos", "std", "core"].contains(&ident.as_str())
    {
        return Err(Error::new(format!(
            "`{name}` is reserved in Rust (a keyword or a crate every project sees): pick another name, such as `{name}-service`"
        )));
    }
    Ok(())
}

/// A directory of a proto path, which becomes a part of the package and a
/// Rust module.
pub(crate) fn check_package_part(part: &str, path: &str) -> Result<(), Error> {
    let mut chars = part.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::new(format!(
            "{path}: `{part}` cannot be part of a proto package: directories are letters, digits and `_`, such as api/helloworld/v1/demo.proto"
        )));
    }
    if KEYWORDS.contains(&part) {
        return Err(Error::new(format!(
            "{path}: `{part}` is a Rust keyword and cannot name the package's module: rename the directory"
        )));
    }
    Ok(())
}

pub(crate) use kratos_build::names::{snake_ident, tonic_snake, type_ident};

/// The service name `kratos proto add` gives a file stem, as Go Kratos
/// does: `demo` is `Demo`, `user_profile` is `UserProfile`.
pub(crate) fn service_name(stem: &str) -> String {
    stem.to_upper_camel_case()
}

/// The file name (without `.rs`) of a service's stub: `order_service.rs`.
pub(crate) fn file_stem(service: &str) -> String {
    service.to_snake_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        for good in ["demo", "user-service", "shop_v2"] {
            check_project(good).unwrap();
        }
        for bad in [
            "", "Demo", "1demo", "-x", "a b", "my.app", "type", "kratos", "test",
        ] {
            assert!(check_project(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn package_parts() {
        for good in ["api", "helloworld", "v1", "user_v2"] {
            check_package_part(good, "x").unwrap();
        }
        for bad in ["", "1a", "a-b", "type", "mod"] {
            assert!(check_package_part(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn service_and_file_names() {
        assert_eq!(service_name("user_profile"), "UserProfile");
        assert_eq!(service_name("demo"), "Demo");
        assert_eq!(file_stem("OrderService"), "order_service");
    }
}
