//! One JSON object per event: `ts`, `level`, `target`, `msg`, the event's
//! fields, then the fields of the spans it was written in (root first, so
//! the innermost span's `trace_id` wins), masked values as `***`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use crate::mask::{MASKED, Mask};

/// The JSON line format.
pub(crate) struct JsonLine {
    mask: Mask,
}

impl JsonLine {
    pub(crate) fn new(mask: Mask) -> Self {
        Self { mask }
    }

    fn insert(&self, map: &mut Map<String, Value>, name: &str, value: Value) {
        let value = if self.mask.masks(name) {
            Value::String(MASKED.into())
        } else {
            value
        };
        map.insert(name.to_owned(), value);
    }
}

/// An event's fields as JSON values (`message` as `msg`).
struct Fields<'a> {
    line: &'a JsonLine,
    map: Map<String, Value>,
}

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = match field.name() {
            "message" => "msg",
            name => name,
        };
        self.line.insert(&mut self.map, name, value);
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut ts = String::new();
        SystemTime.format_time(&mut Writer::new(&mut ts))?;
        let mut map = Map::new();
        map.insert("ts".into(), Value::from(ts));
        map.insert("level".into(), Value::from(meta.level().as_str()));
        map.insert("target".into(), Value::from(meta.target()));
        let mut fields = Fields { line: self, map };
        event.record(&mut fields);
        let mut map = fields.map;
        for span in ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
        {
            let extensions = span.extensions();
            let Some(recorded) = extensions.get::<FormattedFields<JsonFields>>() else {
                continue;
            };
            if let Ok(Value::Object(span_fields)) = serde_json::from_str::<Value>(recorded) {
                for (name, value) in span_fields {
                    self.insert(&mut map, &name, value);
                }
            }
        }
        let line = serde_json::to_string(&Value::Object(map)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}
