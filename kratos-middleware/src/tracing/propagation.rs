//! The W3C propagators: [`TraceContext`] (`traceparent`, `tracestate`) and
//! [`Baggage`] (`baggage`), our own implementations of the OpenTelemetry
//! API's [`TextMapPropagator`], so tracing needs the `opentelemetry` API
//! crate only and not the SDK.
//!
//! They are what [`TracingLayer`](super::TracingLayer) propagates with by
//! default, deliberately the same pair as Go Kratos's tracing middleware,
//! whose default is `propagation.NewCompositeTextMapPropagator(
//! propagation.Baggage{}, propagation.TraceContext{})` from the OpenTelemetry
//! Go API: a Go Kratos service and a kratos-rs one continue each other's
//! traces and baggage. Name them to compose them with another propagator:
//!
//! ```
//! use kratos_middleware::tracing::TracingLayer;
//! use kratos_middleware::tracing::propagation::{Baggage, TraceContext};
//! use opentelemetry::propagation::TextMapCompositePropagator;
//!
//! // W3C Trace Context only, without baggage:
//! let server = TracingLayer::server().with_propagator(TraceContext);
//! // or with a propagator of your own (B3, Jaeger...) next to them:
//! let client = TracingLayer::client().with_propagator(TextMapCompositePropagator::new(vec![
//!     Box::new(TraceContext),
//!     Box::new(Baggage),
//!     // Box::new(my_b3_propagator),
//! ]));
//! # let _ = (server, client);
//! ```
//!
//! Both follow the W3C recommendations ([Trace Context], [Baggage]) and
//! behave as `opentelemetry_sdk`'s `TraceContextPropagator` and
//! `BaggagePropagator` (the tests check it input by input), except where the
//! SDK is laxer than the specification or loses data:
//!
//! - a `traceparent` field must have its exact length in lowercase hex (the
//!   SDK also accepts `00-1-2-01`, leading zeros past the length, a `+`
//!   sign or an uppercase version), and
//!   a version `00` header nothing after its flags (the SDK accepts a
//!   trailing `-`);
//! - several `tracestate` or `baggage` headers are combined, as the
//!   specifications require (the SDK reads the first only);
//! - a baggage value keeps an `=` it contains (`k=a=b` is `a=b`, the SDK
//!   reads `a`), whitespace is trimmed around the encoded value only (an
//!   encoded `%20` stays), `%` and `\` are percent-encoded on the way out,
//!   and properties are kept as received rather than percent-decoded, so a
//!   hop forwards them unchanged;
//! - baggage members that would take an outgoing header past 8192 bytes are
//!   left out whole, rather than sending a header the receiver drops.
//!
//! [Trace Context]: https://www.w3.org/TR/trace-context/
//! [Baggage]: https://www.w3.org/TR/baggage/

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const BAGGAGE: &str = "baggage";

/// The one `traceparent` version this implementation writes.
const SUPPORTED_VERSION: u8 = 0;
/// The version the specification forbids.
const INVALID_VERSION: u8 = 0xff;

/// The W3C Baggage limits: a longer header is dropped whole, and members
/// past the 64th are not read (the API's `Baggage` holds at most 64 entries
/// and 8192 bytes of names, values and properties).
const MAX_BAGGAGE_BYTES: usize = 8192;
const MAX_BAGGAGE_MEMBERS: usize = 64;

/// What a baggage value is percent-encoded for: every byte outside the
/// specification's `baggage-octet` (controls, space, `"`, `,`, `;`, `\`,
/// DEL and non-ASCII), `%` itself, and `=` (legal, but encoded as the SDK
/// does, for receivers that split a member at every `=`).
const BAGGAGE_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%')
    .add(b'=');

static TRACE_CONTEXT_FIELDS: LazyLock<[String; 2]> =
    LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);
static BAGGAGE_FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [BAGGAGE.to_owned()]);

/// The [W3C Trace Context](https://www.w3.org/TR/trace-context/)
/// propagator: the `traceparent` and `tracestate` headers, as Go's
/// `propagation.TraceContext{}`.
///
/// Extracting reads a version `00` `traceparent` exactly, and a higher
/// version by its first four fields (any version but `ff`); lowercase hex
/// only, an all-zero trace or span id is no trace. Only the sampled flag is
/// kept. The span context is marked remote; a `tracestate` that does not
/// parse is dropped without losing the trace. Injecting writes a valid span
/// context as version `00`, with its `tracestate` (empty when it has none).
///
/// ```
/// use kratos_middleware::tracing::propagation::TraceContext;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
///
/// let headers = HashMap::from([(
///     "traceparent".to_owned(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
/// )]);
/// let cx = TraceContext.extract(&headers);
/// let span = cx.span();
/// assert!(span.span_context().is_remote() && span.span_context().is_sampled());
///
/// let mut out = HashMap::new();
/// TraceContext.inject_context(&cx, &mut out);
/// assert_eq!(out["traceparent"], headers["traceparent"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceContext;

impl TraceContext {
    fn extract_span_context(extractor: &dyn Extractor) -> Option<SpanContext> {
        let (trace_id, span_id, flags) = parse_traceparent(extractor.get(TRACEPARENT)?)?;
        // Failing to parse tracestate must not affect the traceparent.
        let trace_state = combined(extractor, TRACESTATE)
            .and_then(|value| TraceState::from_str(&value).ok())
            .unwrap_or_default();
        let span_context = SpanContext::new(trace_id, span_id, flags, true, trace_state);
        span_context.is_valid().then_some(span_context)
    }
}

impl TextMapPropagator for TraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        injector.set(
            TRACEPARENT,
            format!(
                "{SUPPORTED_VERSION:02x}-{}-{}-{:02x}",
                span_context.trace_id(),
                span_context.span_id(),
                span_context.trace_flags() & TraceFlags::SAMPLED
            ),
        );
        injector.set(TRACESTATE, span_context.trace_state().header());
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match Self::extract_span_context(extractor) {
            Some(span_context) => cx.with_remote_span_context(span_context),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(TRACE_CONTEXT_FIELDS.as_slice())
    }
}

/// The trace id, span id and (sampled-only) flags of a `traceparent`:
/// `version-traceid-spanid-flags`, with more fields after a dash allowed
/// from version `01` on.
fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let mut fields = value.trim().splitn(5, '-');
    let version = lower_hex(fields.next()?, 2)?;
    let trace_id = lower_hex(fields.next()?, 32)?;
    let span_id = lower_hex(fields.next()?, 16)?;
    let flags = lower_hex(fields.next()?, 2)?;
    let more = fields.next().is_some();
    let version = u8::try_from(version).ok()?;
    if version == INVALID_VERSION || (version == SUPPORTED_VERSION && more) {
        return None;
    }
    let flags = TraceFlags::new(u8::try_from(flags).ok()?) & TraceFlags::SAMPLED;
    let span_id = u64::try_from(span_id).ok()?;
    Some((TraceId::from(trace_id), SpanId::from(span_id), flags))
}

/// `field` as a number when it is exactly `len` lowercase hex digits.
fn lower_hex(field: &str, len: usize) -> Option<u128> {
    let hex = field.len() == len
        && field
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    // Checked first: from_str_radix would also take a sign, uppercase or
    // fewer digits.
    if hex {
        u128::from_str_radix(field, 16).ok()
    } else {
        None
    }
}

/// Every value of the header `key`, joined with commas as RFC 9110 combines
/// a list-valued field sent several times.
fn combined<'a>(extractor: &'a dyn Extractor, key: &str) -> Option<Cow<'a, str>> {
    let mut values = extractor.get_all(key)?;
    match values.len() {
        0 => None,
        1 => values.pop().map(Cow::Borrowed),
        _ => Some(Cow::Owned(values.join(","))),
    }
}

/// The [W3C Baggage](https://www.w3.org/TR/baggage/) propagator: the
/// `baggage` header, as Go's `propagation.Baggage{}`.
///
/// Extracting reads the comma-separated `name=value;property` list:
/// percent-decoded values with whitespace around them trimmed, properties
/// kept as they are. A member without `=` or whose value is not UTF-8 is
/// skipped; a header over 8192 bytes is dropped whole, and members past the
/// 64th are not read. Injecting writes the context's baggage, values
/// percent-encoded, leaving out members that would take the header past
/// 8192 bytes.
///
/// ```
/// use kratos_middleware::tracing::propagation::Baggage;
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use std::collections::HashMap;
///
/// let headers = HashMap::from([(
///     "baggage".to_owned(),
///     "userId=alice,serverNode=DF%2028;region=eu".to_owned(),
/// )]);
/// let cx = Baggage.extract(&headers);
/// assert_eq!(cx.baggage().get("serverNode").map(|v| v.as_str()), Some("DF 28"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Baggage;

impl TextMapPropagator for Baggage {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut header = String::new();
        let mut member = String::new();
        for (name, (value, metadata)) in baggage {
            // Names are tokens already (the API's `Baggage` takes no other).
            member.clear();
            member.push_str(name.as_str());
            member.push('=');
            member.extend(utf8_percent_encode(value.as_str(), BAGGAGE_VALUE));
            let properties = metadata.as_str().trim();
            if !properties.is_empty() {
                member.push(';');
                member.push_str(properties);
            }
            let comma = usize::from(!header.is_empty());
            if header.len() + comma + member.len() > MAX_BAGGAGE_BYTES {
                continue;
            }
            if comma == 1 {
                header.push(',');
            }
            header.push_str(&member);
        }
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(header) = combined(extractor, BAGGAGE) else {
            return cx.clone();
        };
        if header.len() > MAX_BAGGAGE_BYTES {
            return cx.clone();
        }
        let members = header
            .split(',')
            .take(MAX_BAGGAGE_MEMBERS)
            .filter_map(parse_member)
            .collect::<Vec<_>>();
        cx.with_baggage(members)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(BAGGAGE_FIELDS.as_slice())
    }
}

/// One `name=value;property;...` list member; `None` when it has no `=` or
/// does not decode to UTF-8. The API's `Baggage` then drops a name that is
/// not a token, and entries past its limits.
fn parse_member(member: &str) -> Option<KeyValueMetadata> {
    let mut parts = member.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    // The name is decoded, then trimmed, as the SDK does; a name is a token,
    // which in practice has nothing to decode.
    let name = percent_decode_str(name).decode_utf8().ok()?;
    let value = percent_decode_str(value.trim()).decode_utf8().ok()?;
    let properties = parts
        .map(str::trim)
        .filter(|property| !property.is_empty())
        .collect::<Vec<_>>()
        .join(";");
    Some(KeyValueMetadata::new(
        name.trim().to_owned(),
        value.into_owned(),
        properties,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use http::HeaderMap;
    use opentelemetry::KeyValue;
    use opentelemetry::propagation::TextMapCompositePropagator;
    use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

    use super::*;
    use crate::tracing::HeaderExtractor;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";
    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn carrier(headers: &[(&str, &str)]) -> HashMap<String, String> {
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// What the tests compare of a span context: trace id, span id, flags,
    /// remote, tracestate header; `None` when invalid.
    fn seen(cx: &Context) -> Option<(String, String, u8, bool, String)> {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| {
            (
                sc.trace_id().to_string(),
                sc.span_id().to_string(),
                sc.trace_flags().to_u8(),
                sc.is_remote(),
                sc.trace_state().header(),
            )
        })
    }

    /// The baggage entries as sorted (name, value, properties).
    fn entries(cx: &Context) -> Vec<(String, String, String)> {
        let mut all: Vec<_> = cx
            .baggage()
            .iter()
            .map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_owned()))
            .collect();
        all.sort();
        all
    }

    fn traceparent(value: &str) -> Option<(String, String, u8, bool, String)> {
        seen(&TraceContext.extract(&carrier(&[(TRACEPARENT, value)])))
    }

    #[test]
    fn extracts_the_spec_example() {
        let headers = carrier(&[(TRACEPARENT, PARENT), (TRACESTATE, "congo=t61rcWkgMzE")]);
        let cx = TraceContext.extract(&headers);
        assert_eq!(
            seen(&cx),
            Some((
                TRACE.into(),
                SPAN.into(),
                1,
                true,
                "congo=t61rcWkgMzE".into()
            ))
        );
        let unsampled = format!("00-{TRACE}-{SPAN}-00");
        assert_eq!(traceparent(&unsampled).map(|s| s.2), Some(0));
        // Surrounding whitespace is not part of the value.
        assert!(traceparent(&format!("  {PARENT}\t")).is_some());
    }

    #[test]
    fn keeps_only_the_sampled_flag() {
        for (flags, sampled) in [("03", 1), ("09", 1), ("ff", 1), ("02", 0), ("08", 0)] {
            let value = format!("00-{TRACE}-{SPAN}-{flags}");
            assert_eq!(traceparent(&value).map(|s| s.2), Some(sampled), "{value}");
        }
    }

    #[test]
    fn reads_higher_versions_by_their_first_four_fields() {
        for value in [
            format!("01-{TRACE}-{SPAN}-01"),
            format!("02-{TRACE}-{SPAN}-09-XYZxsf09"),
            format!("cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like"),
            format!("fe-{TRACE}-{SPAN}-01-"),
        ] {
            assert_eq!(traceparent(&value).map(|s| s.2), Some(1), "{value}");
        }
    }

    #[test]
    fn rejects_invalid_traceparents() {
        for (value, why) in [
            ("", "empty"),
            ("00-0af7651916cd43dd8448eb211c80319c", "too few fields"),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                "missing flags",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-",
                "empty flags",
            ),
            (
                "0000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version length",
            ),
            (
                "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "short version",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473600-00f067aa0ba902b7-01",
                "trace id length",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
                "short trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b700-01",
                "span id length",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0100",
                "flags length",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                "short flags",
            ),
            (
                "qw-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "bogus version",
            ),
            (
                "00-qwf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "bogus trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-qwf067aa0ba902b7-01",
                "bogus span id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-qw",
                "bogus flags",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
                "bogus flags digit",
            ),
            (
                "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "uppercase version",
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "uppercase trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
                "uppercase span id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
                "uppercase flags",
            ),
            (
                "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "signed trace id",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "zero trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "zero span id",
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version ff",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                "version 00 with a trailing dash",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                "version 00 with more fields",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.",
                "version 00 with trailing bytes",
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                "flags not followed by a dash",
            ),
        ] {
            assert_eq!(traceparent(value), None, "{why}: {value}");
        }
    }

    #[test]
    fn a_bad_tracestate_keeps_the_trace() {
        for bad in ["foo", "Foo=bar", "foo=ba,r=x=y", "foo=bar,x"] {
            let cx = TraceContext.extract(&carrier(&[(TRACEPARENT, PARENT), (TRACESTATE, bad)]));
            assert_eq!(
                seen(&cx),
                Some((TRACE.into(), SPAN.into(), 1, true, String::new())),
                "{bad}"
            );
        }
    }

    #[test]
    fn tracestate_round_trips_and_combines() {
        let state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        let cx = TraceContext.extract(&carrier(&[(TRACEPARENT, PARENT), (TRACESTATE, state)]));
        let mut out = HashMap::new();
        TraceContext.inject_context(&cx, &mut out);
        assert_eq!(out, carrier(&[(TRACEPARENT, PARENT), (TRACESTATE, state)]));

        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, PARENT.parse().unwrap());
        headers.append(TRACESTATE, "rojo=00f067aa0ba902b7".parse().unwrap());
        headers.append(TRACESTATE, "congo=t61rcWkgMzE".parse().unwrap());
        let cx = TraceContext.extract(&HeaderExtractor(&headers));
        assert_eq!(seen(&cx).unwrap().4, state);
    }

    #[test]
    fn injects_only_a_valid_span_context_as_version_00() {
        let mut out = HashMap::new();
        TraceContext.inject_context(&Context::new(), &mut out);
        assert!(out.is_empty());

        let sc = SpanContext::new(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            TraceFlags::new(0xff),
            false,
            TraceState::default(),
        );
        TraceContext.inject_context(&Context::new().with_remote_span_context(sc), &mut out);
        assert_eq!(out, carrier(&[(TRACEPARENT, PARENT), (TRACESTATE, "")]));
        let fields: Vec<_> = TraceContext.fields().collect();
        assert_eq!(fields, [TRACEPARENT, TRACESTATE]);
    }

    fn baggage(header: &str) -> Vec<(String, String, String)> {
        entries(&Baggage.extract(&carrier(&[(BAGGAGE, header)])))
    }

    fn entry(name: &str, value: &str, properties: &str) -> (String, String, String) {
        (name.into(), value.into(), properties.into())
    }

    #[test]
    fn extracts_baggage_with_encoded_values_and_properties() {
        assert_eq!(
            baggage(" userId = alice , serverNode=DF%2028 ;region=eu; flag ,isProduction=false"),
            [
                entry("isProduction", "false", ""),
                entry("serverNode", "DF 28", "region=eu;flag"),
                entry("userId", "alice", ""),
            ]
        );
        assert_eq!(
            baggage("k=%E4%BD%A0%E5%A5%BD%2C%3B%3D%25,eq=a=b,enc=%20x%20"),
            [
                entry("enc", " x ", ""),
                entry("eq", "a=b", ""),
                entry("k", "你好,;=%", ""),
            ]
        );
    }

    #[test]
    fn skips_bad_members_and_drops_an_oversized_header() {
        // No `=`, an invalid name, bad UTF-8: skipped, the rest kept.
        assert_eq!(
            baggage("novalue,a b=1,(x)=2,bad=%FF,=3,,ok=1"),
            [entry("ok", "1", "")]
        );
        // Past 8192 bytes the whole header goes.
        let big = format!("a=1,b={}", "x".repeat(MAX_BAGGAGE_BYTES));
        assert!(baggage(&big).is_empty());
        // Only the first 64 members are read.
        let many: Vec<String> = (0..100).map(|i| format!("k{i:03}=v")).collect();
        let read = baggage(&many.join(","));
        assert_eq!(read.len(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(read.last().unwrap().0, "k063");
    }

    #[test]
    fn combines_several_baggage_headers() {
        let mut headers = HeaderMap::new();
        headers.append(BAGGAGE, "a=1".parse().unwrap());
        headers.append(BAGGAGE, "b=2;p".parse().unwrap());
        let cx = Baggage.extract(&HeaderExtractor(&headers));
        assert_eq!(entries(&cx), [entry("a", "1", ""), entry("b", "2", "p")]);
    }

    #[test]
    fn baggage_round_trips() {
        let cx = Context::new().with_baggage([
            KeyValueMetadata::new("user", "alice smith", "p=1;flag"),
            KeyValueMetadata::new("odd", " 100% ,;=\\\"é ", ""),
        ]);
        let mut out = HashMap::new();
        Baggage.inject_context(&cx, &mut out);
        let header = &out[BAGGAGE];
        assert!(header.contains("user=alice%20smith;p=1;flag"), "{header}");
        assert!(
            header.contains("odd=%20100%25%20%2C%3B%3D%5C%22%C3%A9%20"),
            "{header}"
        );
        assert_eq!(entries(&Baggage.extract(&out)), entries(&cx));

        let mut out = HashMap::new();
        Baggage.inject_context(&Context::new(), &mut out);
        assert!(out.is_empty());
        assert_eq!(Baggage.fields().collect::<Vec<_>>(), [BAGGAGE]);
    }

    #[test]
    fn injects_no_more_than_8192_bytes() {
        // About 4000 bytes of baggage, within the API's 8192-byte limit, but
        // encoding triples a space: 2000 spaces take 6000 bytes on the wire,
        // so the two large entries do not fit one header together.
        let cx = Context::new().with_baggage([
            KeyValue::new("a", " ".repeat(2000)),
            KeyValue::new("b", " ".repeat(2000)),
            KeyValue::new("c", "small"),
        ]);
        assert_eq!(cx.baggage().len(), 3);
        let mut out = HashMap::new();
        Baggage.inject_context(&cx, &mut out);
        let header = &out[BAGGAGE];
        assert!(header.len() <= MAX_BAGGAGE_BYTES, "{}", header.len());
        let read = Baggage.extract(&out);
        assert_eq!(read.baggage().len(), 2, "one large entry left out whole");
        assert_eq!(read.baggage().get("c").map(|v| v.as_str()), Some("small"));
    }

    /// The SDK's pair and ours, composed the same way.
    fn propagators() -> (TextMapCompositePropagator, TextMapCompositePropagator) {
        (
            TextMapCompositePropagator::new(vec![Box::new(TraceContext), Box::new(Baggage)]),
            TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]),
        )
    }

    #[test]
    fn extracts_and_injects_as_the_sdk_does() {
        let (ours, sdk) = propagators();
        let parents = [
            PARENT.to_owned(),
            format!("00-{TRACE}-{SPAN}-00"),
            format!("00-{TRACE}-{SPAN}-03"),
            format!("00-{TRACE}-{SPAN}-09"),
            format!("02-{TRACE}-{SPAN}-08"),
            format!("02-{TRACE}-{SPAN}-09-XYZxsf09"),
            format!("01-{TRACE}-{SPAN}-09-"),
            format!(" {PARENT} "),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
            String::new(),
            format!("ff-{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}"),
            format!("00-{TRACE}-{SPAN}-"),
            format!("00-{TRACE}-{SPAN}-01-extra"),
            format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
            format!("00-{TRACE}-{}-01", SPAN.to_uppercase()),
            format!("00-{TRACE}-{SPAN}-0A"),
            format!("00-{TRACE}00-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}-0100"),
            format!("00-{}-{SPAN}-01", "0".repeat(32)),
            format!("00-{TRACE}-{}-01", "0".repeat(16)),
            format!("00-qw{}-{SPAN}-01", &TRACE[2..]),
            format!("00-{TRACE}-{SPAN}-qw"),
        ];
        let states = [
            None,
            Some("foo=bar"),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            Some("a@b=c, d=e"),
            Some(""),
            Some("not a list"),
            Some("Foo=bar"),
        ];
        let baggages = [
            None,
            Some(""),
            Some("key1=val1,key2=val2"),
            Some("key1 = val1, key2 =val2 "),
            Some("key1=val1;prop=1;flag,key2=val2"),
            Some("serverNode=DF%2028,userId=%E4%BD%A0"),
            Some("novalue,a b=1,bad=%FF,=3,,ok=1"),
            Some("dup=1,dup=2"),
        ];
        let (mut cases, mut traces, mut with_baggage) = (0, 0, 0);
        for parent in &parents {
            for state in states {
                for bag in baggages {
                    let mut headers = carrier(&[(TRACEPARENT, parent)]);
                    if let Some(state) = state {
                        headers.insert(TRACESTATE.into(), state.into());
                    }
                    if let Some(bag) = bag {
                        headers.insert(BAGGAGE.into(), bag.into());
                    }
                    let (a, b) = (ours.extract(&headers), sdk.extract(&headers));
                    assert_eq!(seen(&a), seen(&b), "{headers:?}");
                    assert_eq!(entries(&a), entries(&b), "{headers:?}");
                    let (mut out_a, mut out_b) = (HashMap::new(), HashMap::new());
                    ours.inject_context(&a, &mut out_a);
                    sdk.inject_context(&a, &mut out_b);
                    assert_eq!(out_a, out_b, "{headers:?}");
                    cases += 1;
                    traces += usize::from(seen(&a).is_some());
                    with_baggage += usize::from(!entries(&a).is_empty());
                }
            }
        }
        // The table exercises both outcomes of each propagator.
        assert_eq!(cases, parents.len() * states.len() * baggages.len());
        assert_eq!(traces, 9 * states.len() * baggages.len());
        assert_eq!(with_baggage, parents.len() * states.len() * 6);
    }

    #[test]
    fn injects_baggage_built_in_code_as_the_sdk_does() {
        let (ours, sdk) = propagators();
        let cx = Context::new().with_baggage([
            KeyValueMetadata::new("user", "alice smith", "p=1"),
            KeyValueMetadata::new("utf8", "你好", ""),
            KeyValueMetadata::new("sep", "a,b;c=d\"", " flag "),
        ]);
        let (mut out_a, mut out_b) = (HashMap::new(), HashMap::new());
        ours.inject_context(&cx, &mut out_a);
        sdk.inject_context(&cx, &mut out_b);
        assert_eq!(out_a, out_b);
    }

    /// Where the SDK is laxer than the specifications or loses data, ours
    /// follows the specifications (see the module docs).
    #[test]
    fn departs_from_the_sdk_only_where_documented() {
        let sdk = TraceContextPropagator::new();
        for lax in [
            "00-1-2-01".to_owned(),
            format!("+0-{TRACE}-{SPAN}-01"),
            format!("0A-{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}-01-"),
            format!("00-{TRACE}-{SPAN}00-01"),
            format!("0000-{TRACE}-{SPAN}-01"),
        ] {
            let headers = carrier(&[(TRACEPARENT, &lax)]);
            assert!(
                seen(&sdk.extract(&headers)).is_some(),
                "the SDK takes {lax}"
            );
            assert_eq!(seen(&TraceContext.extract(&headers)), None, "{lax}");
        }
        let sdk = BaggagePropagator::new();
        let headers = carrier(&[(BAGGAGE, "eq=a=b,enc=%20x,p=1;q=%2C")]);
        assert_eq!(
            entries(&sdk.extract(&headers)),
            [
                entry("enc", "x", ""),
                entry("eq", "a", ""),
                entry("p", "1", "q=,")
            ]
        );
        assert_eq!(
            entries(&Baggage.extract(&headers)),
            [
                entry("enc", " x", ""),
                entry("eq", "a=b", ""),
                entry("p", "1", "q=%2C")
            ]
        );
    }
}
