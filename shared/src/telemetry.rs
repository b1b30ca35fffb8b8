//! Logs and metrics for every binary: the subscriber set up first thing, and [`observe`], which
//! runs one request with one log line and one metrics document. It knows no HTTP problem type and
//! reads no setting: `crate::lambda` hands it the function's name, namespace and caller-id key
//! from [`crate::Config`].
//!
//! Logging is set up before the configuration is read (so a bad setting is logged), from Lambda's
//! own variables only. Logs honour Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT=JSON` switches to one
//! JSON object per line (fields at the top level, for Logs Insights, with the RFC 3339
//! `timestamp` Lambda's level filtering needs), and `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`, which
//! wins) sets the level. No timestamps in text mode: CloudWatch stamps every line already. Every
//! line names the function (`service`); every line written while [`observe`] runs a request (the
//! handler's included) also its `request_id` and X-Ray `trace_id` ([`trace_id`]), from the span
//! `observe` runs it in.
//!
//! The request line carries the Lambda request id, the route, the status, the latency, whether
//! the process was cold, and a caller id that cannot be turned back into the token's subject
//! (HMAC-SHA256 keyed by `CURSOR_SECRET`; see [`caller_id`]). The HTTP face notes the verified
//! caller ([`note_caller`]) in a task-local that lives as long as the request. Never a token, a key or a body,
//! at any level (see [`NEVER_VERBOSE`]).
//!
//! Metrics are CloudWatch Embedded Metric Format documents on stdout (through
//! `metrics_cloudwatch_embedded`), namespace `METRICS_NAMESPACE` (default `StatelessShop`),
//! dimension `Function` (and `StatusClass` for `Requests`/`Latency`): `Requests` (Count),
//! `Latency` (Milliseconds), `ColdStart` (Count, once per process).

use crate::domain::UserId;
use hmac::{Hmac, KeyInit, Mac};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use sha2::Sha256;
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tracing::Instrument;
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Targets held at a level where they print no request contents, whatever `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL` ask for: lambda_runtime traces each raw event, aws-sigv4 and the SDK's
/// orchestrator trace signed requests.
const NEVER_VERBOSE: &[&str] = &[
    "lambda_runtime=info",
    "lambda_runtime_api_client=info",
    "lambda_http=info",
    "aws_sigv4=off",
    "aws_smithy_runtime=error",
];

/// How log lines are written: one JSON object per line (`AWS_LAMBDA_LOG_FORMAT=JSON`) or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// Sets up logging for a process named after its executable (the local server: `local`). On
/// Lambda every binary is `bootstrap`: [`crate::lambda::run`] calls [`init_for`] with the
/// function's name instead.
pub fn init() {
    let exe = std::env::current_exe().unwrap_or_default();
    let name = exe.file_stem().map(|s| s.to_string_lossy().into_owned());
    init_for(name.map_or("unknown", |n| Box::leak(n.into_boxed_str())));
}

/// Sets up logging on stdout for `service` (the function's binary name, `get-product`): every line
/// carries it as `service`, and every line written inside [`observe`] its request's `request_id`
/// and, when the invocation has one, its `trace_id`.
pub fn init_for(service: &'static str) {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_else(|_| "INFO".to_owned())
        .to_ascii_lowercase();
    // The SDK logs every 4xx from DynamoDB at WARN, including the conditional-check failures that
    // are normal outcomes here (412s); real failures are logged by `http::finish` with their cause.
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| EnvFilter::try_new(d).is_ok())
        .unwrap_or_else(|| format!("{level},aws_smithy_runtime=error,aws_config=error"));
    let format = match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
        Ok(f) if f.eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    // A second call (tests, the local server hosting every handler) leaves the first in place.
    let lines = subscriber(service, format, &directives, std::io::stdout);
    let _ = tracing::subscriber::set_global_default(lines);
}

/// The subscriber [`init_for`] installs, writing to `writer` (tests capture the lines with it):
/// `directives` as in `RUST_LOG`, with the [`NEVER_VERBOSE`] caps on top whatever they ask for.
pub fn subscriber<W>(
    service: &'static str,
    format: LogFormat,
    directives: &str,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Whatever the level: the runtime traces every raw event (the Authorization header, bodies)
    // and the SDK its signed requests (session tokens), so those targets are capped.
    for cap in NEVER_VERBOSE {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer);
    let line = Line { service, format };
    match format {
        // Span fields kept as JSON, so a line can take the invocation's fields as they are.
        LogFormat::Json => Box::new(
            builder
                .fmt_fields(JsonFields::new())
                .event_format(line)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.event_format(line).finish()),
    }
}

/// The span [`observe`] runs each request in, and the fields it gives every line inside it (the
/// request line names them too: inside the span they are written once, from the span).
const INVOCATION: &str = "invocation";
const INVOCATION_FIELDS: &[&str] = &["request_id", "trace_id"];
const THIS: &str = module_path!();

/// One log line. JSON: `timestamp` (RFC 3339, which Lambda needs to read a JSON line's level),
/// `level`, `service`, the invocation's fields, then the event's own, all at the top level for
/// Logs Insights. Text: no timestamp (CloudWatch stamps every line), the same fields as
/// `name=value`.
struct Line {
    service: &'static str,
    format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        // The invocation's fields as the span stored them (a JSON object in JSON mode).
        let invocation = ctx.event_scope().and_then(|mut scope| {
            let span = scope.find(|s| s.name() == INVOCATION && s.metadata().target() == THIS)?;
            let fields = span.extensions().get::<FormattedFields<N>>()?.to_string();
            Some(fields)
        });
        let level = event.metadata().level().as_str();
        let json = self.format == LogFormat::Json;
        let mut line = if json {
            let mut timestamp = String::new();
            SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
            let (timestamp, service) = (Value::from(timestamp), Value::from(self.service));
            format!(r#"{{"timestamp":{timestamp},"level":"{level}","service":{service}"#)
        } else {
            format!("{level} service={}", self.service)
        };
        let inner = match &invocation {
            Some(f) if json => f.strip_prefix('{').and_then(|f| f.strip_suffix('}')),
            other => other.as_deref(),
        };
        if let Some(inner) = inner.filter(|i| !i.is_empty()) {
            line.push(if json { ',' } else { ' ' });
            line.push_str(inner);
        }
        if !json {
            line.push(':');
        }
        let skip = invocation.map_or(&[][..], |_| INVOCATION_FIELDS);
        event.record(&mut Fields {
            line: &mut line,
            json,
            skip,
        });
        writeln!(writer, "{line}{}", if json { "}" } else { "" })
    }
}

/// An event's fields, appended to a line: `,"name":value` (JSON) or ` name=value` (text, the
/// message bare, strings quoted), skipping those the invocation already gave the line.
struct Fields<'a> {
    line: &'a mut String,
    json: bool,
    skip: &'static [&'static str],
}

impl Fields<'_> {
    fn push(&mut self, field: &Field, value: Value, quoted: bool) {
        let name = field.name().strip_prefix("r#").unwrap_or(field.name());
        if self.skip.contains(&name) {
            return;
        }
        let text = match &value {
            Value::String(s) if quoted => format!("{s:?}"),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let entry = match (self.json, name) {
            (true, _) => format!(",{}:{value}", Value::from(name)),
            (false, "message") => format!(" {text}"),
            (false, _) => format!(" {name}={text}"),
        };
        self.line.push_str(&entry);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, value.into(), false);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into(), false);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into(), false);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into(), false);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.into(), true);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, format!("{value:?}").into(), false);
    }
}

/// Logs why the process cannot start and exits with status 1. For `main`, before the handler loop:
/// on Lambda this surfaces as an init error whose log line says what to set.
pub fn exit_at_startup(function: &str, err: &dyn std::error::Error) -> ! {
    let chain = crate::chain::cause_chain(err);
    tracing::error!(error = %chain, "{function} cannot start");
    eprintln!("{function} cannot start: {chain}");
    std::process::exit(1)
}

/// The EMF collector of this process (one function per process, as on Lambda).
static METRICS: OnceLock<&'static metrics_cloudwatch_embedded::Collector> = OnceLock::new();

/// Sets up the EMF collector for `function` in `namespace` (once per process, at start-up).
pub fn init_metrics(function: &'static str, namespace: &str) {
    match metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace.to_owned())
        .with_dimension("Function", function)
        .init()
    {
        Ok(collector) => {
            metrics::describe_histogram!("Latency", metrics::Unit::Milliseconds, "request latency");
            metrics::describe_counter!("Requests", metrics::Unit::Count, "requests answered");
            metrics::describe_counter!(
                "ColdStart",
                metrics::Unit::Count,
                "first request of a process"
            );
            // Every document names its function as the log lines do (besides the dimension).
            collector.set_property("service", function);
            let _ = METRICS.set(collector);
        }
        // Only if a recorder was set already; requests are still served and logged.
        Err(err) => tracing::warn!(error = %err, "metrics are off"),
    }
}

/// Whether the next request is this process's first.
static COLD: AtomicBool = AtomicBool::new(true);

tokio::task_local! {
    /// The verified caller of the request in flight. Held in memory for the request only; the
    /// log line gets its keyed hash, never the subject.
    static CALLER: RefCell<Option<UserId>>;
}

/// Records the verified caller of the request in flight (the HTTP face calls it once the token
/// is verified); a no-op outside [`observe`].
pub fn note_caller(user: &UserId) {
    let _ = CALLER.try_with(|slot| *slot.borrow_mut() = Some(user.clone()));
}

/// A stable, non-reversible id for a token subject: the first 16 hex digits of
/// HMAC-SHA256(`key`, "caller:" + subject), `key` being `CURSOR_SECRET`
/// ([`crate::Config::caller_id_key`]). The same caller has the same id in every function of one
/// deployment, so their requests can be followed across the logs. Without a `CURSOR_SECRET` there
/// is no key nobody can guess, so no id: `-` (set `CursorSecret`).
pub fn caller_id(key: Option<&[u8]>, subject: &str) -> String {
    let Some(Ok(mut mac)) = key.map(Hmac::<Sha256>::new_from_slice) else {
        return "-".to_owned();
    };
    mac.update(b"caller:");
    mac.update(subject.as_bytes());
    mac.finalize().into_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What one request's log line and metrics say.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub request_id: String,
    pub route: String,
    pub status: u16,
    pub latency_ms: f64,
    pub cold_start: bool,
    pub caller: Option<String>,
    /// The X-Ray trace id ([`trace_id`]), when the invocation has one.
    pub trace_id: Option<String>,
}

/// Runs one request through `handler`, then logs its line and emits its metrics. Caller ids are
/// keyed with `caller_key` (see [`caller_id`]). The handler and the request line run in a span
/// that gives every line written inside it the request's `request_id` and `trace_id`.
pub async fn observe<F, Fut>(
    req: Request,
    caller_key: Option<&[u8]>,
    handler: &F,
) -> Result<Response<Body>, Infallible>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Infallible>>,
{
    let started = Instant::now();
    let cold_start = COLD.swap(false, Ordering::Relaxed);
    let request_id = req
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let trace_id = trace_id(&req);
    // At ERROR, the span's level, so that no level filter that keeps a line drops its fields.
    let span = tracing::error_span!(
        INVOCATION,
        request_id = %request_id,
        trace_id = trace_id.as_deref().map(tracing::field::display),
    );
    let route = route(&req);
    async {
        let (response, caller) = CALLER
            .scope(RefCell::new(None), async {
                let response = handler(req).await;
                (response, CALLER.with(|c| c.borrow_mut().take()))
            })
            .await;
        let caller = caller.map(|user| caller_id(caller_key, user.as_str()));
        let status = response.as_ref().map_or(500, |r| r.status().as_u16());
        record(&RequestRecord {
            request_id,
            route,
            status,
            latency_ms: started.elapsed().as_secs_f64() * 1e3,
            cold_start,
            caller,
            trace_id,
        });
        response
    }
    .instrument(span)
    .await
}

/// The route template API Gateway matched (`GET /products/{id}`). `cargo lambda watch` sends
/// `$default` whatever it matched and names no template, so the line then shows the method and
/// the concrete path: the closest thing to the route that the event carries.
fn route(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx))
            if ctx
                .route_key
                .as_deref()
                .is_some_and(|k| !k.is_empty() && k != "$default") =>
        {
            ctx.route_key.clone().unwrap_or_default()
        }
        _ => format!("{} {}", req.method(), req.uri().path()),
    }
}

/// The request's X-Ray trace id (`1-67a2f0c1-…`, the `Root` of the trace header, as the X-Ray
/// console shows it): from the Lambda context of the invocation (the runtime's
/// `Lambda-Runtime-Trace-Id`), else from the `X-Amzn-Trace-Id` header API Gateway adds; `None`
/// when neither has one. The context, not `_X_AMZN_TRACE_ID`: the runtime sets that variable per
/// invocation only when it runs one invocation at a time, and it is one for the whole process.
/// A value that does not look like a trace id (too long, odd characters) is ignored.
pub fn trace_id(req: &Request) -> Option<String> {
    let from_context = req
        .lambda_context_ref()
        .and_then(|c| c.xray_trace_id.as_deref())
        .and_then(trace_root);
    from_context.or_else(|| {
        req.headers()
            .get("x-amzn-trace-id")
            .and_then(|v| v.to_str().ok())
            .and_then(trace_root)
    })
}

/// The `Root` of an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), or the value itself when
/// it is a bare id; only letters, digits and `-`, at most 64 characters.
fn trace_root(header: &str) -> Option<String> {
    let root = header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .unwrap_or(header)
        .trim();
    let plausible = !root.is_empty()
        && root.len() <= 64
        && root.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then(|| root.to_owned())
}

/// Writes the request's log line and, when metrics are on, its EMF document to stdout, where
/// Lambda's log agent looks for it (a failed write loses one data point, never the response).
pub fn record(r: &RequestRecord) {
    let _ = record_to(r, std::io::stdout().lock());
}

/// As [`record`], with the EMF document written to `out`.
pub fn record_to(r: &RequestRecord, out: impl std::io::Write) -> std::io::Result<()> {
    tracing::info!(
        request_id = %r.request_id,
        route = %r.route,
        status = r.status,
        latency_ms = (r.latency_ms * 1000.0).round() / 1000.0,
        cold_start = r.cold_start,
        caller = r.caller.as_deref().unwrap_or("-"),
        trace_id = r.trace_id.as_deref(),
        "request"
    );
    let Some(collector) = METRICS.get() else {
        return Ok(());
    };
    let class = status_class(r.status);
    metrics::counter!("Requests", "StatusClass" => class).increment(1);
    metrics::histogram!("Latency", "StatusClass" => class).record(r.latency_ms);
    if r.cold_start {
        metrics::counter!("ColdStart").increment(1);
    }
    collector
        .set_property("RequestId", r.request_id.clone())
        .set_property("Route", r.route.clone());
    match &r.trace_id {
        Some(trace_id) => collector.set_property("trace_id", trace_id.clone()),
        None => collector.remove_property("trace_id"),
    };
    collector.flush(out)
}

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids_are_stable_short_keyed_and_distinct() {
        let key = Some(&b"0123456789abcdef0123456789abcdef"[..]);
        let a = caller_id(key, "alice");
        assert_eq!(a, caller_id(key, "alice"));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, caller_id(key, "bob"));
        assert_ne!(
            a,
            caller_id(Some(&b"another key, also 32 bytes long!"[..]), "alice")
        );
        assert_eq!(caller_id(None, "alice"), "-", "no key, no id");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(412), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
