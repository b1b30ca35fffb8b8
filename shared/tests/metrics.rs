//! The EMF documents of one request: namespace, dimensions, units and values as CloudWatch
//! reads them. (Its own test binary: the metrics recorder is global to a process.)

use serde_json::Value;
use shared::telemetry::{RequestRecord, init_metrics, record_to};

fn documents(r: &RequestRecord) -> Vec<Value> {
    let mut out = Vec::new();
    record_to(r, &mut out).expect("writes to memory");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect()
}

#[test]
fn one_document_per_request_and_one_more_on_a_cold_start() {
    init_metrics("get-product", shared::config::DEFAULT_METRICS_NAMESPACE);
    let mut r = RequestRecord {
        request_id: "req-1".into(),
        route: "GET /products/{id}".into(),
        status: 200,
        latency_ms: 1.5,
        cold_start: true,
        caller: None,
        trace_id: Some("1-67a2f0c1-0123456789abcdef01234567".into()),
    };
    let docs = documents(&r);
    assert_eq!(docs.len(), 2, "{docs:?}");
    let requests = docs
        .iter()
        .find(|d| d.get("Requests").is_some())
        .expect("a Requests document");
    let meta = &requests["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(meta["Namespace"], "StatelessShop");
    assert_eq!(
        meta["Dimensions"][0],
        serde_json::json!(["Function", "StatusClass"])
    );
    assert_eq!(requests["Function"], "get-product");
    assert_eq!(requests["StatusClass"], "2xx");
    assert_eq!(requests["Requests"], 1);
    assert_eq!(requests["Latency"], serde_json::json!([1.5]));
    assert_eq!(requests["RequestId"], "req-1");
    assert_eq!(requests["Route"], "GET /products/{id}");
    // Named as on the log lines, so a query for a trace or a function finds the documents too.
    assert_eq!(requests["trace_id"], "1-67a2f0c1-0123456789abcdef01234567");
    assert_eq!(requests["service"], "get-product");
    let units: Vec<(&str, &str)> = meta["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap_or(""),
                m["Unit"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(units.contains(&("Latency", "Milliseconds")), "{units:?}");
    assert!(units.contains(&("Requests", "Count")), "{units:?}");
    let cold = docs
        .iter()
        .find(|d| d.get("ColdStart").is_some())
        .expect("a ColdStart document");
    assert_eq!(cold["ColdStart"], 1);
    assert_eq!(
        cold["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
        serde_json::json!(["Function"])
    );

    // A warm 5xx: one document, counted in its own class, nothing left over from the first.
    r.cold_start = false;
    r.status = 503;
    r.latency_ms = 7.25;
    r.trace_id = None;
    let docs = documents(&r);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["StatusClass"], "5xx");
    assert_eq!(docs[0]["Requests"], 1);
    assert_eq!(docs[0]["Latency"], serde_json::json!([7.25]));
    assert!(docs[0].get("trace_id").is_none(), "{docs:?}");
    assert_eq!(docs[0]["service"], "get-product");
}
