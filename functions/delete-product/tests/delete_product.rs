//! Black-box tests of `DELETE /products/{id}` against a real embedded DynamoDB engine.

use delete_product::handle;
use devkit::apigw::Call;
use devkit::{TestApp, body_json, header, request_from_event_json_with, seed_product, spawn_app};
use lambda_http::{Body, Response};
use shared::domain::ProductId;

const ROUTE: &str = "/products/{id}";

/// Sends `call` as an admin.
async fn delete(t: &TestApp, call: Call) -> Response<Body> {
    let bearer = t.admin_bearer("admin-1");
    send(t, call.header("authorization", &bearer)).await
}

/// Sends `call` with whatever credentials it carries.
async fn send(t: &TestApp, call: Call) -> Response<Body> {
    handle(&t.app, &t.auth, call.request().expect("valid event"))
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
    let response = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.admin_bearer("admin-1")),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());
    assert!(!exists(&t, "travel-mug").await);
    let again = handle(
        &t.app,
        &t.auth,
        request_from_event_json_with(event, &t.admin_bearer("admin-1")),
    )
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

#[tokio::test]
async fn deletes_need_an_admin_token() {
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 1, 1).await;
    let missing = send(&t, call("p1")).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(header(&missing, "www-authenticate"), "Bearer");
    let user = send(
        &t,
        call("p1").header("authorization", &t.user_bearer("alice")),
    )
    .await;
    assert_eq!(user.status(), 403);
    assert_eq!(
        header(&user, "www-authenticate"),
        r#"Bearer error="insufficient_scope""#
    );
    assert!(exists(&t, "p1").await, "nothing deleted without an admin");
}

#[tokio::test]
async fn if_match_with_only_weak_tags_never_holds() {
    // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, so a list of weak
    // tags is a precondition that fails (412), whether or not the product exists; never a 500.
    let t = spawn_app().await;
    let current = seed_product(&t.app, "p1", "P", 1, 1).await;
    let weak = format!("W/{}, W/\"other\"", current.etag.header_value());
    for id in ["p1", "ghost"] {
        let response = delete(&t, call(id).header("If-Match", &weak)).await;
        assert_eq!(response.status(), 412, "{id}");
        assert_eq!(
            header(&response, "content-type"),
            "application/problem+json"
        );
    }
    assert!(exists(&t, "p1").await, "nothing deleted");
}

#[tokio::test]
async fn an_entity_tag_may_contain_a_comma() {
    // etagc includes ',' (RFC 9110 §8.8.3): "a,b" is one tag, which does not match (412), not a
    // malformed header (400).
    let t = spawn_app().await;
    seed_product(&t.app, "p1", "P", 1, 1).await;
    let response = delete(&t, call("p1").header("If-Match", r#""a,b", W/"c""#)).await;
    assert_eq!(response.status(), 412);
    assert!(exists(&t, "p1").await);
}
