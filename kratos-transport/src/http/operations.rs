//! The table of an HTTP server's route templates and the gRPC operations
//! its generated routes serve: route template and method →
//! `/pkg.Service/Method`, else the template itself, shared.

use std::sync::Arc;

use foldhash::HashMap as FastMap;
use http::Method;

/// The HTTP methods one entry of the table matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Methods {
    /// `*`: any method.
    Any,
    /// One method (`GET` also matches `HEAD`).
    One(Method),
}

impl Methods {
    /// `*` is any method; anything else must be a valid HTTP method.
    fn parse(method: &str) -> Self {
        if method == "*" {
            return Self::Any;
        }
        match Method::from_bytes(method.as_bytes()) {
            Ok(method) => Self::One(method),
            Err(_) => panic!("{method:?} is not an HTTP method (nor `*` for any)"),
        }
    }
}

/// Route template (shared, so a request's transport info does not copy it)
/// → the (methods, gRPC operation) pairs served there.
///
/// Owned by one [`HttpServer`](super::HttpServer) and read, behind an `Arc`,
/// by its transport-info layer on every request; never changed once the
/// server is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Operations {
    /// foldhash: a route template is looked up on every request.
    by_template: FastMap<Arc<str>, Template>,
}

/// The operations of one route template.
#[derive(Debug, Clone, Default)]
struct Template(Vec<(Methods, Arc<str>)>);

impl Template {
    /// Adds `(methods, operation)`, replacing an entry for the same methods.
    fn insert(&mut self, methods: Methods, operation: Arc<str>) {
        self.0.retain(|(m, _)| *m != methods);
        self.0.push((methods, operation));
    }

    /// The entry for `method` (a `GET` entry also answers `HEAD`), else the
    /// `*` entry.
    fn find(&self, method: &Method) -> Option<&Arc<str>> {
        let entries = &self.0;
        entries
            .iter()
            .find(|(m, _)| match m {
                Methods::One(m) => m == method || (*method == Method::HEAD && *m == Method::GET),
                Methods::Any => false,
            })
            .or_else(|| entries.iter().find(|(m, _)| *m == Methods::Any))
            .map(|(_, operation)| operation)
    }
}

impl Operations {
    /// Records that `method` (or `*` for any) on the route template
    /// `template` serves `operation`, replacing an earlier entry for the same
    /// method and template.
    ///
    /// # Panics
    ///
    /// If `method` is neither `*` nor a valid HTTP method.
    pub(crate) fn insert(&mut self, method: &str, template: &str, operation: Arc<str>) {
        let methods = Methods::parse(method);
        self.template(template).insert(methods, operation);
    }

    /// Records the route template `template`, so that the transport info of
    /// its requests shares its name instead of copying it.
    pub(crate) fn add_template(&mut self, template: &str) {
        self.template(template);
    }

    fn template(&mut self, template: &str) -> &mut Template {
        self.by_template.entry(template.into()).or_default()
    }

    /// Adds every entry of `other`; its entries win over equal ones here.
    pub(crate) fn extend(&mut self, other: Operations) {
        for (template, entries) in other.by_template {
            let mine = self.by_template.entry(template).or_default();
            for (methods, operation) in entries.0 {
                mine.insert(methods, operation);
            }
        }
    }

    /// The gRPC operation served for `method` on the route template
    /// `template`: the entry for that method (a `GET` entry also answers
    /// `HEAD`), else the `*` entry (the tests' view of the table).
    #[cfg(test)]
    pub(crate) fn find(&self, method: &Method, template: &str) -> Option<Arc<str>> {
        self.by_template.get(template)?.find(method).cloned()
    }

    /// The operation of a request for `method` that matched `template`: the
    /// gRPC operation [`find`](Self::find) names, else the template (shared
    /// when it was recorded, copied otherwise: a route of a router merged
    /// as it is).
    pub(crate) fn operation(&self, method: &Method, template: &str) -> Arc<str> {
        match self.by_template.get_key_value(template) {
            Some((name, entry)) => entry.find(method).unwrap_or(name).clone(),
            None => template.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(&str, &str, &str)]) -> Operations {
        let mut table = Operations::default();
        for (method, template, operation) in entries {
            table.insert(method, template, (*operation).into());
        }
        table
    }

    #[test]
    fn finds_by_method_and_template() {
        let table = table(&[
            ("GET", "/v1/things/{id}", "/pkg.Svc/Get"),
            ("POST", "/v1/things/{id}", "/pkg.Svc/Update"),
        ]);
        let find = |method: Method, template| table.find(&method, template);
        assert_eq!(
            find(Method::GET, "/v1/things/{id}").as_deref(),
            Some("/pkg.Svc/Get")
        );
        assert_eq!(
            find(Method::HEAD, "/v1/things/{id}").as_deref(),
            Some("/pkg.Svc/Get")
        );
        assert_eq!(
            find(Method::POST, "/v1/things/{id}").as_deref(),
            Some("/pkg.Svc/Update")
        );
        assert_eq!(find(Method::PUT, "/v1/things/{id}"), None);
        assert_eq!(find(Method::GET, "/v1/things"), None);
    }

    #[test]
    fn a_request_operation_is_the_entry_else_the_shared_template() {
        let mut table = table(&[("GET", "/v1/things/{id}", "/pkg.Svc/Get")]);
        table.add_template("/plain/{name}");
        assert_eq!(
            &*table.operation(&Method::GET, "/v1/things/{id}"),
            "/pkg.Svc/Get"
        );
        assert_eq!(
            &*table.operation(&Method::POST, "/v1/things/{id}"),
            "/v1/things/{id}"
        );
        // A recorded template is shared, not copied per request.
        let (a, b) = (
            table.operation(&Method::GET, "/plain/{name}"),
            table.operation(&Method::GET, "/plain/{name}"),
        );
        assert!(Arc::ptr_eq(&a, &b) && &*a == "/plain/{name}");
        assert_eq!(&*table.operation(&Method::GET, "/unknown"), "/unknown");
    }

    #[test]
    fn a_star_entry_answers_the_other_methods() {
        let table = table(&[
            ("*", "/v1/any", "/pkg.Svc/Any"),
            ("GET", "/v1/any", "/pkg.Svc/Get"),
        ]);
        assert_eq!(
            table.find(&Method::GET, "/v1/any").as_deref(),
            Some("/pkg.Svc/Get")
        );
        assert_eq!(
            table.find(&Method::DELETE, "/v1/any").as_deref(),
            Some("/pkg.Svc/Any")
        );
    }

    #[test]
    fn later_entries_replace_earlier_ones() {
        let mut first = table(&[
            ("GET", "/v1/a", "/pkg.Svc/Old"),
            ("GET", "/v1/b", "/pkg.Svc/B"),
        ]);
        first.insert("GET", "/v1/a", "/pkg.Svc/New".into());
        first.extend(table(&[("GET", "/v1/b", "/pkg.Other/B")]));
        assert_eq!(
            first.find(&Method::GET, "/v1/a").as_deref(),
            Some("/pkg.Svc/New")
        );
        assert_eq!(
            first.find(&Method::GET, "/v1/b").as_deref(),
            Some("/pkg.Other/B")
        );
    }

    #[test]
    #[should_panic(expected = "is not an HTTP method")]
    fn an_invalid_method_panics() {
        table(&[("GE T", "/v1/a", "/pkg.Svc/A")]);
    }
}
