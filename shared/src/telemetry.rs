//! Logs and metrics for every binary: the subscriber set up first thing, and [`observe`], which
//! runs one request with one log line and one metrics document. It knows no HTTP problem type and
//! reads no setting: `crate::lambda` hands it the function's name, namespace and caller-id key
//! from [`crate::Config`].
//!
//! Logging is set up before the configuration is read (so a bad setting is logged), from Lambda's
//! own variables only. Logs honour Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT=JSON` switches to one
//! JSON object per line (fields at the top level, for Logs Insights, with the RFC 3339
//! `timestamp` Lambda's level filtering needs), and `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`, which
//! wins) sets the level. No timestamps in text mode: CloudWatch stamps every line already.
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
use sha2::Sha256;
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tracing_subscriber::EnvFilter;

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

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .unwrap_or_else(|_| "INFO".to_owned())
        .to_ascii_lowercase();
    // The SDK logs every 4xx from DynamoDB at WARN, including the conditional-check failures that
    // are normal outcomes here (412s); real failures are logged by `http::finish` with their cause.
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},aws_smithy_runtime=error,aws_config=error"))
    });
    // Whatever the level: the runtime traces every raw event (the Authorization header, bodies)
    // and the SDK its signed requests (session tokens), so those targets are capped.
    for cap in NEVER_VERBOSE {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false);
    // `try_init` so a second call (tests, the local server hosting every handler) is harmless.
    // JSON lines keep an RFC 3339 `timestamp`: Lambda reads the level of a JSON line only when it
    // has one (otherwise it counts as INFO for ApplicationLogLevel filtering).
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.without_time().try_init()
    };
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
}

/// Runs one request through `handler`, then logs its line and emits its metrics. Caller ids are
/// keyed with `caller_key` (see [`caller_id`]).
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
    // The route template API Gateway matched (`GET /products/{id}`). `cargo lambda watch` sends
    // `$default` whatever it matched and names no template, so the line then shows the method and
    // the concrete path: the closest thing to the route that the event carries.
    let route = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx))
            if ctx
                .route_key
                .as_deref()
                .is_some_and(|k| !k.is_empty() && k != "$default") =>
        {
            ctx.route_key.clone().unwrap_or_default()
        }
        _ => format!("{} {}", req.method(), req.uri().path()),
    };
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
    });
    response
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
