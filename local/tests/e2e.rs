//! End to end: the local API started in-process on port 0 and driven over real HTTP.

use devkit::tokens::{DEV_ISSUER, TokenSpec};
use local::{Options, Running, Trust};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "stateless-shop-{name}-{}-{nanos}",
        std::process::id()
    ))
}

fn options(data_dir: PathBuf, memory: bool) -> Options {
    Options {
        addr: "127.0.0.1:0".into(),
        dynamodb_addr: "127.0.0.1:0".into(),
        data_dir,
        memory,
        table: "stateless-shop".into(),
        seed: true,
        external_issuer: None,
        cors: local::cors::Cors::default(),
        // DynamoDB's transaction isolation, modelled: concurrent requests here meet its conflicts.
        transaction_hold: Some(std::time::Duration::from_millis(10)),
        auth_mode: shared::auth::AuthMode::Verify,
        dynamodb_url: None,
        create_table: false,
    }
}

async fn start(options: Options) -> Running {
    local::start(options).await.expect("the local API starts")
}

/// `PUT /products/{id}` of a small product as `bearer`; the status.
async fn create(http: &Client, base: &str, bearer: &str, id: &str) -> StatusCode {
    let product = json!({"name": id, "description": "", "price": 1, "stock": 1});
    let put = http
        .put(format!("{base}/products/{id}"))
        .header("authorization", bearer)
        .json(&product)
        .send()
        .await;
    put.expect("PUT").status()
}

fn bearer(api: &Running, spec: &TokenSpec) -> String {
    match &api.trust {
        Trust::Dev(issuer) => format!("Bearer {}", issuer.mint(spec)),
        Trust::External { .. } => panic!("these tests run with the development issuer"),
    }
}

#[tokio::test]
async fn the_catalog_round_trip_over_http() {
    let dir = temp_dir("e2e");
    let api = start(options(dir.clone(), true)).await;
    let http = Client::new();
    let url = |path: &str| format!("{}{path}", api.url);
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));

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
    let anonymous = http
        .put(url("/products/travel-mug"))
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let user = bearer(&api, &TokenSpec::user("alice"));
    let not_admin = http
        .put(url("/products/travel-mug"))
        .header("authorization", &user)
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);

    let created = http
        .put(url("/products/travel-mug"))
        .header("authorization", &admin)
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
        .header("authorization", &admin)
        .header("if-match", &etag)
        .json(&cheaper)
        .send()
        .await
        .expect("PUT");
    assert_eq!(replaced.status(), StatusCode::OK);
    let stale = http
        .put(url("/products/travel-mug"))
        .header("authorization", &admin)
        .header("if-match", &etag)
        .json(&product)
        .send()
        .await
        .expect("PUT");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.headers()["content-type"], "application/problem+json");

    let deleted = http
        .delete(url("/products/travel-mug"))
        .header("authorization", &admin)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
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
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn shopping_over_http_cart_checkout_retry_cancel() {
    let dir = temp_dir("shop");
    let api = start(options(dir.clone(), true)).await;
    let http = Client::new();
    let url = |path: &str| format!("{}{path}", api.url);
    let alice = bearer(&api, &TokenSpec::user("alice"));
    let bob = bearer(&api, &TokenSpec::user("bob"));

    assert_eq!(
        http.get(url("/cart")).send().await.expect("GET").status(),
        StatusCode::UNAUTHORIZED
    );
    let cart: Value = http
        .put(url("/cart/items/espresso-cup"))
        .header("authorization", &alice)
        .json(&json!({"quantity": 2}))
        .send()
        .await
        .expect("PUT")
        .json()
        .await
        .expect("JSON");
    assert_eq!(cart["items"][0]["quantity"], 2);
    let total = cart["total"].as_i64().expect("a total");

    let place = || {
        http.post(url("/orders"))
            .header("authorization", &alice)
            .header("idempotency-key", "e2e-order-1")
            .json(&json!({"expected_total": total}))
    };
    let placed = place().send().await.expect("POST");
    assert_eq!(placed.status(), StatusCode::CREATED);
    let location = placed.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let order: Value = placed.json().await.expect("JSON");
    // The client retries (say its connection dropped): same response, no second order.
    let retried = place().send().await.expect("POST");
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(retried.json::<Value>().await.expect("JSON"), order);

    let listing: Value = http
        .get(url("/orders"))
        .header("authorization", &alice)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listing["items"].as_array().map(Vec::len), Some(1));
    let fetched = http
        .get(url(&location))
        .header("authorization", &alice)
        .send()
        .await
        .expect("GET");
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(
        http.get(url(&location))
            .header("authorization", &bob)
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::NOT_FOUND
    );

    let cancelled = http
        .post(url(&format!("{location}/cancel")))
        .header("authorization", &alice)
        .send()
        .await
        .expect("POST");
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        cancelled.json::<Value>().await.expect("JSON")["status"],
        "cancelled"
    );
    let product: Value = http
        .get(url("/products/espresso-cup"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        product["stock"], 120,
        "the demo stock is back after the cancel"
    );
    api.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn on_disk_data_and_the_signing_key_survive_a_restart() {
    let dir = temp_dir("restart");
    let http = Client::new();
    let first = start(options(dir.clone(), false)).await;
    assert!(first.seeded > 0);
    let admin = bearer(&first, &TokenSpec::admin("admin-1"));
    assert_eq!(
        create(&http, &first.url, &admin, "kept").await,
        StatusCode::CREATED
    );
    first.stop().await;

    let second = start(options(dir.clone(), false)).await;
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
    // A token minted before the restart still verifies: the key is kept in the data folder.
    let delete = http
        .delete(format!("{}/products/kept", second.url))
        .header("authorization", &admin)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_external_issuer_is_trusted_through_its_jwks_url() {
    // API A plays the issuer: it serves its development key set over HTTP.
    let issuer_dir = temp_dir("issuer");
    let issuer_api = start(options(issuer_dir.clone(), true)).await;
    let jwks_url = format!("{}{}", issuer_api.url, local::server::JWKS_PATH);
    let config = shared::auth::AuthConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(DEV_ISSUER.to_owned()),
        "JWKS_URL" => Some(jwks_url.clone()),
        _ => None,
    })
    .expect("valid settings");
    // API B trusts A as an external issuer, with keys fetched from A's URL at start-up.
    let mut opts = options(temp_dir("relying"), true);
    opts.external_issuer = Some(config);
    let relying = start(opts).await;
    assert!(matches!(relying.trust, Trust::External { .. }));
    let http = Client::new();
    let no_jwks = http
        .get(format!("{}{}", relying.url, local::server::JWKS_PATH))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        no_jwks.status(),
        StatusCode::NOT_FOUND,
        "only the development issuer serves keys"
    );

    let admin = bearer(&issuer_api, &TokenSpec::admin("admin-1"));
    assert_eq!(
        create(&http, &relying.url, &admin, "remote").await,
        StatusCode::CREATED
    );
    relying.stop().await;
    issuer_api.stop().await;
    let _ = std::fs::remove_dir_all(&issuer_dir);
}

/// Requests a careless or hostile client might send. None may produce a 5xx, and every error is
/// a problem document.
#[tokio::test]
async fn hostile_input_never_produces_a_server_error() {
    let dir = temp_dir("hostile");
    let api = start(options(dir.clone(), true)).await;
    let admin = bearer(&api, &TokenSpec::admin("admin-1"));
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
        "/cart",
        "/cart/items/espresso-cup",
        "/cart/items/%00",
        "/cart/items/",
        "/orders",
        "/orders?limit=0",
        "/orders?cursor=AAAA",
        "/orders/0196b3a2-6c1e-7d4f-8a2b-3c4d5e6f7a8b",
        "/orders/not-an-id",
        "/orders/0196b3a2-6c1e-7d4f-8a2b-3c4d5e6f7a8b/cancel",
        "/orders/%2e%2e/cancel",
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
        ("authorization", "Bearer"),
        ("authorization", "Bearer a.b.c"),
        ("authorization", admin.as_str()),
        ("idempotency-key", "k"),
        ("idempotency-key", "bad key"),
    ];
    let mut sent = 0;
    for path in paths {
        for method in &methods {
            for (i, (content_type, body)) in bodies.iter().enumerate() {
                for (name, value) in [headers[i % headers.len()], headers[(i + 3) % headers.len()]]
                {
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
                        "{method} {path} with {content_type} body #{i}, {name}: {status}"
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
    }
    assert_eq!(sent, paths.len() * methods.len() * bodies.len() * 2);
    api.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A shop front end on another origin works against the local API as it will against API
/// Gateway: the preflight is answered with the template's CORS settings, and responses carry
/// `Access-Control-Allow-Origin` and the exposed headers. Path parameters arrive percent-decoded.
#[tokio::test]
async fn a_browser_on_another_origin_passes_cors() {
    let dir = temp_dir("cors");
    let mut opts = options(dir.clone(), true);
    opts.cors = local::cors::Cors::parse("http://localhost:5173");
    let api = start(opts).await;
    let http = Client::new();
    let preflight = http
        .request(
            Method::OPTIONS,
            format!("{}/cart/items/espresso-cup", api.url),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .is_ok_and(|m| m.contains("PUT"))
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .is_ok_and(|m| m.contains("authorization") && m.contains("content-type"))
    );
    let other = http
        .request(
            Method::OPTIONS,
            format!("{}/cart/items/espresso-cup", api.url),
        )
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .expect("OPTIONS");
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let alice = bearer(&api, &TokenSpec::user("alice"));
    let put = http
        .put(format!("{}/cart/items/espresso%2Dcup", api.url))
        .header("origin", "http://localhost:5173")
        .header("authorization", &alice)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(
        put.status(),
        StatusCode::OK,
        "espresso%2Dcup is espresso-cup"
    );
    assert_eq!(
        put.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert!(
        put.headers()["access-control-expose-headers"]
            .to_str()
            .is_ok_and(|v| v.contains("etag"))
    );
    api.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
