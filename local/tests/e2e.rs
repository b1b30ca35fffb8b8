//! End to end: the local API started in-process on port 0 and driven over real HTTP.

use local::{Options, Running, Storage};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

fn options(storage: Storage) -> Options {
    Options {
        addr: "127.0.0.1:0".into(),
        dynamodb_addr: "127.0.0.1:0".into(),
        storage,
        table: "stateless-shop".into(),
        seed: true,
    }
}

async fn start(storage: Storage) -> Running {
    local::start(options(storage))
        .await
        .expect("the local API starts")
}

#[tokio::test]
async fn the_catalog_round_trip_over_http() {
    let api = start(Storage::Memory).await;
    let http = Client::new();
    let url = |path: &str| format!("{}{path}", api.url);

    let listing: Value = http
        .get(url("/products"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listing["items"].as_array().map(Vec::len), Some(api.seeded));
    assert!(
        api.seeded >= 3,
        "demo products are seeded into an empty catalog"
    );

    let product = json!({"name": "Travel mug", "description": "Steel", "price": 1290, "stock": 40});
    let created = http
        .put(url("/products/travel-mug"))
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["location"], "/products/travel-mug");
    let etag = created.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();

    let fetched = http
        .get(url("/products/travel-mug"))
        .send()
        .await
        .expect("GET");
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["etag"], etag.as_str());
    let not_modified = http
        .get(url("/products/travel-mug"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    let mut cheaper = product.clone();
    cheaper["price"] = json!(990);
    let replaced = http
        .put(url("/products/travel-mug"))
        .header("if-match", &etag)
        .json(&cheaper)
        .send()
        .await
        .expect("PUT");
    assert_eq!(replaced.status(), StatusCode::OK);
    let stale = http
        .put(url("/products/travel-mug"))
        .header("if-match", &etag)
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.headers()["content-type"], "application/problem+json");

    assert_eq!(
        http.delete(url("/products/travel-mug"))
            .send()
            .await
            .expect("DELETE")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        http.get(url("/products/travel-mug"))
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::NOT_FOUND
    );

    let no_route = http.get(url("/nowhere")).send().await.expect("GET");
    assert_eq!(no_route.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        no_route.headers()["content-type"],
        "application/problem+json"
    );
    let wrong_method = http.post(url("/products")).send().await.expect("POST");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers()["allow"], "GET");
    api.stop().await;
}

#[tokio::test]
async fn on_disk_data_survives_a_restart() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("stateless-shop-e2e-{}-{nanos}", std::process::id()));
    let http = Client::new();
    let first = start(Storage::Disk(dir.clone())).await;
    assert!(first.seeded > 0);
    let product = json!({"name": "Kept", "description": "", "price": 1, "stock": 1});
    let put = http
        .put(format!("{}/products/kept", first.url))
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status(), StatusCode::CREATED);
    first.stop().await;

    let second = start(Storage::Disk(dir.clone())).await;
    assert_eq!(
        second.seeded, 0,
        "a catalog with products is not seeded again"
    );
    let got = http
        .get(format!("{}/products/kept", second.url))
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status(), StatusCode::OK);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Requests a careless or hostile client might send. None may produce a 5xx, and every error is
/// a problem document.
#[tokio::test]
async fn hostile_input_never_produces_a_server_error() {
    let api = start(Storage::Memory).await;
    let http = Client::new();
    let long_id = "x".repeat(500);
    let huge = "y".repeat(200 * 1024);
    let paths = [
        "/products",
        "/products/",
        "/products/espresso-cup",
        "/products/%00",
        "/products/%2e%2e",
        "/products/a%2Fb",
        "/products/%F0%9F%92%A9",
        &format!("/products/{long_id}"),
        "/products?limit=99999999999999999999999",
        "/products?limit=%00",
        "/products?cursor=%FF%FE",
        "/products?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/products?limit=1&limit=1",
        "/products/espresso-cup/extra",
        "/",
    ];
    let bodies: [(&str, &str); 9] = [
        ("application/json", "{}"),
        ("application/json", "null"),
        ("application/json", "[]"),
        (
            "application/json",
            "{\"name\":\"\\ud800\",\"description\":\"\",\"price\":1,\"stock\":1}",
        ),
        (
            "application/json",
            "{\"name\":\"n\",\"description\":\"\",\"price\":1e400,\"stock\":1}",
        ),
        (
            "application/json",
            "{\"name\":\"n\",\"description\":\"\",\"price\":18446744073709551616,\"stock\":1}",
        ),
        ("application/json", &huge),
        ("text/html", "<p>"),
        ("application/json; charset=latin1", "{\"name\":1}"),
    ];
    let methods = [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::POST,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
    ];
    let headers = [
        ("if-match", "*"),
        ("if-match", "garbage"),
        ("if-none-match", "W/\"x\", \"y\""),
        ("if-match", "\"\""),
    ];
    let mut sent = 0;
    for path in paths {
        for method in &methods {
            for (i, (content_type, body)) in bodies.iter().enumerate() {
                let (name, value) = headers[i % headers.len()];
                let response = http
                    .request(method.clone(), format!("{}{path}", api.url))
                    .header("content-type", *content_type)
                    .header(name, value)
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("the server answers");
                sent += 1;
                let status = response.status();
                assert!(
                    !status.is_server_error(),
                    "{method} {path} with {content_type} body #{i}: {status}"
                );
                if status.is_client_error() && *method != Method::HEAD {
                    assert_eq!(
                        response.headers()["content-type"],
                        "application/problem+json",
                        "{method} {path}"
                    );
                }
            }
        }
    }
    assert_eq!(sent, paths.len() * methods.len() * bodies.len());
    api.stop().await;
}
