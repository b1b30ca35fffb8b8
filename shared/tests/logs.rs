//! The log lines, as `shared::telemetry::init_for` writes them: every line names the function
//! (`service`), and every line written while `observe` runs a request, the handler's included,
//! names the request (`request_id`) and its X-Ray trace (`trace_id`). The request line keeps its
//! fields, each written once.

use lambda_http::{Body, Context, Request, RequestExt, Response};
use serde_json::Value;
use shared::telemetry::{LogFormat, observe, subscriber, trace_id};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

const ROOT: &str = "1-67a2f0c1-0123456789abcdef01234567";
const LAMBDA_TRACE: &str =
    "Root=1-67a2f0c1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
const GATEWAY_ROOT: &str = "1-67a2f0c1-fedcba9876543210fedcba98";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("UTF-8")
    }
}

/// A request for `/products/p1` with `headers`, and a Lambda context when `context` names a
/// request id and a trace header.
fn request(context: Option<(&str, Option<&str>)>, headers: &[(&str, &str)]) -> Request {
    let mut builder = http::Request::builder().uri("/products/p1");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let req = builder.body(Body::Empty).expect("a request");
    match context {
        Some((request_id, trace)) => {
            let mut context = Context::default();
            context.request_id = request_id.to_owned();
            context.xray_trace_id = trace.map(str::to_owned);
            req.with_lambda_context(context)
        }
        None => req,
    }
}

/// A handler that logs one line of its own at WARN and answers 200.
async fn handler(_: Request) -> Result<Response<Body>, Infallible> {
    tracing::warn!(attempt = 2, "inside the handler");
    Ok(Response::new(Body::Empty))
}

/// Runs `req` through `observe` under the subscriber `init_for("get-product")` would set up,
/// after one start-up line; returns what was written.
async fn logged(format: LogFormat, directives: &str, req: Request) -> String {
    let logs = Captured::default();
    let lines = subscriber("get-product", format, directives, logs.clone());
    let _guard = tracing::subscriber::set_default(lines);
    tracing::error!("started");
    let response = observe(req, None, &handler).await.expect("infallible");
    assert_eq!(response.status(), 200);
    logs.text()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn every_json_line_names_the_service_and_those_inside_an_invocation_its_request_and_trace() {
    let req = request(
        Some(("req-1", Some(LAMBDA_TRACE))),
        &[
            (
                "x-amzn-trace-id",
                "Root=1-67a2f0c1-fedcba9876543210fedcba98",
            ),
            ("authorization", "Bearer a-secret-token"),
        ],
    );
    let text = logged(LogFormat::Json, "info", req).await;
    assert!(!text.contains("a-secret-token"), "never a token: {text}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 3, "start-up, handler, request: {text}");
    for line in &lines {
        assert_eq!(line["service"], "get-product", "{line}");
        let stamp = line["timestamp"].as_str().expect("a timestamp");
        assert!(
            stamp.ends_with('Z') && stamp.contains('T'),
            "RFC 3339: {stamp}"
        );
    }
    let (started, inside, request) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(started["level"], "ERROR");
    assert_eq!(started["message"], "started");
    assert!(started.get("trace_id").is_none() && started.get("request_id").is_none());

    // The Lambda context's trace wins over the header's; its Root, as X-Ray shows it.
    assert_eq!(inside["level"], "WARN");
    assert_eq!(inside["message"], "inside the handler");
    assert_eq!(inside["attempt"], 2);
    assert_eq!(inside["request_id"], "req-1");
    assert_eq!(inside["trace_id"], ROOT);

    assert_eq!(request["level"], "INFO");
    assert_eq!(request["message"], "request");
    assert_eq!(request["request_id"], "req-1");
    assert_eq!(request["trace_id"], ROOT);
    assert_eq!(request["route"], "GET /products/p1");
    assert_eq!(request["status"], 200);
    assert!(request["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(request["cold_start"].is_boolean());
    assert_eq!(request["caller"], "-");
    let raw = text.lines().nth(2).expect("the request line");
    for key in ["\"request_id\":", "\"trace_id\":", "\"service\":"] {
        assert_eq!(raw.matches(key).count(), 1, "{key} once: {raw}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn without_a_lambda_trace_the_api_gateway_header_gives_it_and_without_either_none() {
    let header = [(
        "x-amzn-trace-id",
        "Root=1-67a2f0c1-fedcba9876543210fedcba98",
    )];
    let text = logged(
        LogFormat::Json,
        "info",
        request(Some(("req-2", None)), &header),
    )
    .await;
    let lines = json_lines(&text);
    assert_eq!(lines[1]["trace_id"], GATEWAY_ROOT, "{text}");
    assert_eq!(lines[2]["trace_id"], GATEWAY_ROOT, "{text}");

    let text = logged(LogFormat::Json, "info", request(Some(("req-3", None)), &[])).await;
    for line in &json_lines(&text)[1..] {
        assert!(line.get("trace_id").is_none(), "no trace, no field: {line}");
        assert_eq!(line["request_id"], "req-3");
        assert_eq!(line["service"], "get-product");
    }
}

#[test]
fn only_the_root_of_a_plausible_trace_header_is_taken() {
    let with = |value: &str| trace_id(&request(None, &[("x-amzn-trace-id", value)]));
    assert_eq!(with(LAMBDA_TRACE).as_deref(), Some(ROOT));
    assert_eq!(with(ROOT).as_deref(), Some(ROOT), "a bare id");
    assert_eq!(
        with("Self=1-a-b; Root=1-a-b;Sampled=0").as_deref(),
        Some("1-a-b")
    );
    assert_eq!(with("Root=<script>"), None);
    assert_eq!(with(&format!("Root=1-{}", "a".repeat(80))), None);
    assert_eq!(with(""), None);
    assert_eq!(trace_id(&request(None, &[])), None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_level_filter_that_keeps_a_line_keeps_its_invocation_fields() {
    let req = request(Some(("req-4", Some(LAMBDA_TRACE))), &[]);
    let text = logged(LogFormat::Json, "warn", req).await;
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 2, "no INFO request line at WARN: {text}");
    assert_eq!(lines[1]["message"], "inside the handler");
    assert_eq!(lines[1]["trace_id"], ROOT);
    assert_eq!(lines[1]["request_id"], "req-4");
}

#[tokio::test(flavor = "current_thread")]
async fn text_lines_name_them_too() {
    let req = request(Some(("req-5", Some(LAMBDA_TRACE))), &[]);
    let text = logged(LogFormat::Text, "info", req).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "ERROR service=get-product: started");
    let invocation = format!("service=get-product request_id=req-5 trace_id={ROOT}: ");
    assert_eq!(
        lines[1],
        format!("WARN {invocation}inside the handler attempt=2")
    );
    assert!(
        lines[2].starts_with(&format!(
            "INFO {invocation}request route=GET /products/p1 status=200 latency_ms="
        )),
        "{}",
        lines[2]
    );
    assert_eq!(lines[2].matches("request_id=").count(), 1, "{}", lines[2]);
    assert!(lines[2].ends_with("caller=\"-\""), "{}", lines[2]);
}
