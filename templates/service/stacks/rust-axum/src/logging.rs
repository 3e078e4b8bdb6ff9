//! Logs: one flat JSON object per line on stdout.
//!
//! Every line has `timestamp` (RFC 3339, UTC), `level` (lowercase), `message` and `target`,
//! followed by the event's own fields and then the fields of the spans it happened in, all at the
//! top level. Inside a request's span (see `middleware::request_span`) every line carries the
//! request's `request_id`; the access log line, for example:
//!
//! ```json
//! {"timestamp":"2026-01-01T12:00:00.000000000Z","level":"info","message":"request completed","target":"app::middleware","method":"GET","path":"/health","status":200,"duration_ms":0.2,"request_id":"…"}
//! ```

use std::fmt;
use std::io;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber (JSON lines on stdout, at most as verbose as `level`) and a
/// panic hook that logs panics as JSON lines too.
///
/// Call it once, before anything logs.
pub fn init(level: LevelFilter) {
    subscriber(level, io::stdout).init();
    std::panic::set_hook(Box::new(|panic| {
        // Inside a request this runs in the request's span, so the line has its request id.
        tracing::error!(
            panic = panic.payload_as_str().unwrap_or("a non-string payload"),
            location = panic.location().map(ToString::to_string),
            "panicked"
        );
    }));
}

/// The subscriber that writes JSON lines to `writer`.
pub fn subscriber<W>(level: LevelFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(level)
        .with(SpanFields)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .event_format(JsonLines),
        )
}

/// A [`Layer`] that keeps each span's fields as JSON values, for [`JsonLines`] to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanFields;

impl<S> Layer<S> for SpanFields
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }
}

/// A [`FormatEvent`] that writes each event as one flat JSON object.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        // The spans' fields, innermost span first; a name already written is not repeated.
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                if let Some(span_fields) = span.extensions().get::<Fields>() {
                    for (name, value) in &span_fields.values {
                        if !fields.contains(name) {
                            fields.values.push((name, value.clone()));
                        }
                    }
                }
            }
        }
        let metadata = event.metadata();
        let line = Line {
            timestamp: OffsetDateTime::now_utc(),
            level: *metadata.level(),
            target: metadata.target(),
            fields,
        };
        let json = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{json}")
    }
}

/// Keys written by the formatter itself; an event field with one of these names is renamed
/// with a `field.` prefix instead of producing a duplicate key.
const RESERVED: [&str; 4] = ["timestamp", "level", "message", "target"];

struct Line<'a> {
    timestamp: OffsetDateTime,
    level: Level,
    target: &'a str,
    fields: Fields,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let timestamp = self
            .timestamp
            .format(&Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &timestamp)?;
        map.serialize_entry("level", level_name(self.level))?;
        map.serialize_entry(
            "message",
            self.fields.message.as_deref().unwrap_or_default(),
        )?;
        map.serialize_entry("target", self.target)?;
        for (name, value) in &self.fields.values {
            if RESERVED.contains(name) {
                map.serialize_entry(&format!("field.{name}"), value)?;
            } else {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Collects an event's fields in the order they were recorded.
#[derive(Debug, Default)]
struct Fields {
    message: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    fn contains(&self, name: &str) -> bool {
        self.values.iter().any(|(existing, _)| *existing == name)
    }

    /// Sets `field` to `value`; a span field recorded again is replaced, not repeated.
    fn push(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else if let Some(slot) = self
            .values
            .iter_mut()
            .find(|(existing, _)| *existing == name)
        {
            slot.1 = value;
        } else {
            self.values.push((name, value));
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity; those are written as strings.
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.push(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("buffer lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Self;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(level: LevelFilter, log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(super::subscriber(level, buffer.clone()), log);
        let bytes = buffer.0.lock().expect("buffer lock").clone();
        String::from_utf8(bytes)
            .expect("UTF-8 output")
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is a JSON object"))
            .collect()
    }

    #[test]
    fn writes_flat_json_lines_with_lowercase_levels() {
        let lines = capture(LevelFilter::INFO, || {
            tracing::info!(
                method = "GET",
                status = 200_u16,
                duration_ms = 1.5,
                "request completed"
            );
            tracing::warn!(level = "shadowed", "quoted \"text\"\nand a newline");
        });
        assert_eq!(lines.len(), 2);

        let access = &lines[0];
        assert_eq!(access["level"], "info");
        assert_eq!(access["message"], "request completed");
        assert_eq!(access["method"], "GET");
        assert_eq!(access["status"], 200);
        assert_eq!(access["duration_ms"], 1.5);
        let timestamp = access["timestamp"].as_str().expect("timestamp is a string");
        assert!(
            timestamp.ends_with('Z') && timestamp.contains('T'),
            "{timestamp}"
        );

        assert_eq!(lines[1]["level"], "warn");
        assert_eq!(lines[1]["message"], "quoted \"text\"\nand a newline");
        assert_eq!(lines[1]["field.level"], "shadowed");
    }

    #[test]
    fn adds_the_fields_of_the_enclosing_spans() {
        let lines = capture(LevelFilter::WARN, || {
            let request = tracing::error_span!("request", request_id = "req-1", path = "/items");
            let _entered = request.enter();
            let inner = tracing::error_span!("query", path = "inner");
            let _inner = inner.enter();
            tracing::warn!(status = 503_u16, "not ready");
        });
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["message"], "not ready");
        assert_eq!(lines[0]["status"], 503);
        assert_eq!(lines[0]["request_id"], "req-1");
        // The innermost span wins.
        assert_eq!(lines[0]["path"], "inner");
    }

    #[test]
    fn honours_the_level() {
        let lines = capture(LevelFilter::WARN, || {
            tracing::info!("hidden");
            tracing::error!("shown");
        });
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["level"], "error");
    }
}
