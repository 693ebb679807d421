//! [`HeaderExtractor`] and [`HeaderInjector`]: `http::HeaderMap` as an
//! OpenTelemetry text-map carrier.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use kratos_core::transport::headers::{BAGGAGE, TRACEPARENT, TRACESTATE};
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation fields (`traceparent`, `tracestate`, `baggage`...)
/// from request headers; a value that is not visible ASCII is skipped.
///
/// ```
/// use kratos_middleware::tracing::HeaderExtractor;
/// use opentelemetry::propagation::Extractor;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse().unwrap());
/// let carrier = HeaderExtractor(&headers);
/// assert!(carrier.get("traceparent").unwrap().starts_with("00-0af7"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// The W3C propagation fields as parsed header names: the propagators read
/// and write them on every call, and a `&str` would be parsed each time.
fn known(key: &str) -> Option<&'static HeaderName> {
    static KNOWN: [HeaderName; 3] = [TRACEPARENT, TRACESTATE, BAGGAGE];
    KNOWN.iter().find(|name| name.as_str() == key)
}

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match known(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        }
        .and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = match known(key) {
            Some(name) => self.0.get_all(name),
            None => self.0.get_all(key),
        };
        let all: Vec<&str> = all.iter().filter_map(|v| v.to_str().ok()).collect();
        if all.is_empty() { None } else { Some(all) }
    }
}

/// Writes propagation fields into request headers, replacing any value
/// already there; a key or value that is not a valid header is skipped.
///
/// ```
/// use kratos_middleware::tracing::HeaderInjector;
/// use opentelemetry::propagation::Injector;
///
/// let mut headers = http::HeaderMap::new();
/// HeaderInjector(&mut headers).set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
/// assert!(headers.contains_key("traceparent"));
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = match known(key) {
            Some(name) => Ok(name.clone()),
            None => HeaderName::from_bytes(key.as_bytes()),
        };
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_invalid_values() {
        let mut headers = HeaderMap::new();
        let mut injector = HeaderInjector(&mut headers);
        injector.set("traceparent", "00-abc-def-01".into());
        injector.set("bad key", "x".into());
        injector.set("bad-value", "line\nbreak".into());
        headers.append("baggage", "a=1".parse().unwrap());
        headers.append("baggage", "b=2".parse().unwrap());
        let extractor = HeaderExtractor(&headers);
        assert_eq!(extractor.get("traceparent"), Some("00-abc-def-01"));
        assert_eq!(extractor.get("bad-value"), None);
        assert_eq!(extractor.get_all("baggage"), Some(vec!["a=1", "b=2"]));
        assert_eq!(extractor.get_all("missing"), None);
        let mut keys = extractor.keys();
        keys.sort_unstable();
        assert_eq!(keys, ["baggage", "traceparent"]);
    }

    #[test]
    fn every_field_of_the_default_propagators_is_a_parsed_name() {
        use opentelemetry::propagation::TextMapPropagator;

        use crate::tracing::propagation::{Baggage, TraceContext};

        let fields: Vec<String> = TraceContext
            .fields()
            .chain(Baggage.fields())
            .map(str::to_owned)
            .collect();
        assert_eq!(fields, ["traceparent", "tracestate", "baggage"]);
        for field in &fields {
            assert!(known(field).is_some(), "{field} is parsed per call");
        }
    }
}
