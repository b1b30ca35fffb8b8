//! The request log line, as `main` produces it through `shared::lambda::observe`: one JSON
//! line per request with id, route, status, latency, cold start and a hashed caller; never the
//! token. (Its own test binary: the cold-start flag is per process.)

use devkit::{request_from_event_json_with, spawn_app};
use lambda_http::RequestExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};

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

#[tokio::test(flavor = "current_thread")]
async fn one_line_per_request_with_a_hashed_caller_and_no_token() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = spawn_app().await;
    // Caller ids are keyed by the deployment's cursor secret: the same table, with one set.
    let app = devkit::app_for(
        &t.engine,
        t.app.store().table(),
        &[("CURSOR_SECRET", "a-test-secret-of-at-least-32-bytes!")],
    )
    .await
    .expect("an app with a cursor secret");
    let bearer = t.user_bearer("alice");
    let token = bearer.trim_start_matches("Bearer ").to_owned();
    let event = include_str!("../../../events/get-cart.json");
    let handler = |req| get_cart::handle(&app, &t.auth, req);
    for request_id in ["req-1", "req-2"] {
        let mut context = lambda_http::Context::default();
        context.request_id = request_id.to_owned();
        let req = request_from_event_json_with(event, &bearer).with_lambda_context(context);
        let response = shared::lambda::observe(app.config(), req, &handler)
            .await
            .expect("infallible");
        assert_eq!(response.status(), 200);
    }
    // Without a token: no caller.
    let req = request_from_event_json_with(event, "");
    shared::lambda::observe(app.config(), req, &handler)
        .await
        .expect("infallible");
    // Under `cargo lambda watch` the route key is `$default`: the line names the method and path.
    let watched = event.replace("\"GET /cart\"", "\"$default\"");
    assert!(
        watched.contains("$default"),
        "the event names its route key"
    );
    let req = request_from_event_json_with(&watched, &bearer);
    shared::lambda::observe(app.config(), req, &handler)
        .await
        .expect("infallible");

    let text = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("UTF-8");
    assert!(!text.contains(&token), "the token never reaches the logs");
    assert!(!text.contains("alice"), "nor the subject");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .filter(|l: &Value| l["message"] == "request")
        .collect();
    assert_eq!(lines.len(), 4, "one line per request: {text}");
    let caller = shared::telemetry::caller_id(app.config().caller_id_key(), "alice");
    assert_eq!(caller.len(), 16, "keyed by the secret: {caller}");
    for (line, (id, cold)) in lines.iter().zip([("req-1", true), ("req-2", false)]) {
        assert_eq!(line["request_id"], id);
        assert_eq!(line["route"], "GET /cart");
        assert_eq!(line["status"], 200);
        assert_eq!(line["cold_start"], cold);
        assert_eq!(line["caller"], caller.as_str());
        assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
        assert_eq!(line["level"], "INFO");
    }
    assert_eq!(lines[2]["status"], 401);
    assert_eq!(lines[2]["caller"], "-");
    assert_eq!(lines[3]["route"], "GET /cart");
}
