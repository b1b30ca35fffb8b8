//! Black-box tests of `DELETE /products/{id}` against a real embedded DynamoDB engine.

use delete_product::handle;
use devkit::apigw::Call;
use devkit::{TestApp, body_json, header, request_from_event_json, seed_product, spawn_app};
use lambda_http::{Body, Response};
use shared::domain::ProductId;
use shared::store::GetProduct;

const ROUTE: &str = "/products/{id}";

async fn delete(t: &TestApp, call: Call) -> Response<Body> {
    handle(&t.app, call.request().expect("valid event"))
        .await
        .expect("infallible")
}

fn call(id: &str) -> Call {
    Call::new("DELETE", ROUTE, &format!("/products/{id}"))
}

async fn exists(t: &TestApp, id: &str) -> bool {
    let id = ProductId::parse(id).expect("valid id");
    t.app
        .store()
        .get_product(&id)
        .await
        .expect("engine answers")
        .is_some()
}

#[tokio::test]
async fn the_sample_event_deletes_then_finds_nothing() {
    let t = spawn_app().await;
    seed_product(&t.app, "travel-mug", "Travel mug", 1290, 40).await;
    let event = include_str!("../../../events/delete-product.json");
    let response = handle(&t.app, request_from_event_json(event))
        .await
        .expect("infallible");
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());
    assert!(!exists(&t, "travel-mug").await);
    let again = handle(&t.app, request_from_event_json(event))
        .await
        .expect("infallible");
    assert_eq!(again.status(), 404);
    assert_eq!(header(&again, "content-type"), "application/problem+json");
    assert_eq!(body_json(&again)["status"], 404);
}

#[tokio::test]
async fn if_match_must_name_the_current_tag() {
    let t = spawn_app().await;
    let current = seed_product(&t.app, "p1", "P", 1, 1).await;
    assert_eq!(
        delete(&t, call("p1").header("If-Match", "\"stale\""))
            .await
            .status(),
        412
    );
    assert!(exists(&t, "p1").await, "a stale tag deletes nothing");
    assert_eq!(
        delete(
            &t,
            call("p1").header("If-Match", &current.etag.header_value())
        )
        .await
        .status(),
        204
    );
    assert!(!exists(&t, "p1").await);
    // RFC 9110: If-Match is false when nothing is there.
    assert_eq!(
        delete(&t, call("p1").header("If-Match", "*"))
            .await
            .status(),
        412
    );
}

#[tokio::test]
async fn if_match_star_deletes_whatever_is_there() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 1, 1).await;
    assert_eq!(
        delete(&t, call("p1").header("If-Match", "*"))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn bad_ids_and_if_none_match_are_400() {
    let t = spawn_app().await;
    assert_eq!(delete(&t, call("a.b")).await.status(), 400);
    seed_product(&t.app, "p1", "P", 1, 1).await;
    assert_eq!(
        delete(&t, call("p1").header("If-None-Match", "*"))
            .await
            .status(),
        400
    );
    assert!(exists(&t, "p1").await);
}

#[tokio::test]
async fn other_methods_are_405() {
    let t = spawn_app().await;
    let response = delete(&t, Call::new("GET", ROUTE, "/products/p1")).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "DELETE");
}
