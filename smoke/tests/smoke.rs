//! The smoke flow against the local API, started in-process on port 0, in both auth modes: the
//! functions verifying tokens, and the emulated API Gateway JWT authorizer in front of functions
//! that read its claims. CI runs the same flow with tokens from a Cognito emulator (`.ci/run`).

use devkit::tokens::TokenSpec;
use local::{Options, Running, Trust};
use shared::auth::AuthMode;
use smoke::{Client, Tokens};

fn options(name: &str, auth_mode: AuthMode) -> Options {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let data_dir = std::env::temp_dir().join(format!(
        "stateless-shop-smoke-{name}-{}-{nanos}",
        std::process::id()
    ));
    Options {
        addr: "127.0.0.1:0".into(),
        dynamodb_addr: "127.0.0.1:0".into(),
        data_dir,
        memory: true,
        table: "stateless-shop".into(),
        seed: true,
        external_issuer: None,
        cors: local::cors::Cors::default(),
        transaction_hold: Some(std::time::Duration::from_millis(5)),
        auth_mode,
        dynamodb_url: None,
        create_table: false,
    }
}

fn tokens(api: &Running) -> Tokens {
    let Trust::Dev(issuer) = &api.trust else {
        panic!("the local API trusts its development issuer");
    };
    let mint = |sub: &str, admin| {
        issuer.mint(&TokenSpec {
            sub: sub.to_owned(),
            admin,
            ttl_secs: 300,
        })
    };
    Tokens {
        shopper: mint("smoke-shopper", false),
        admin: mint("smoke-admin", true),
    }
}

async fn the_flow_passes(auth_mode: AuthMode) -> Running {
    let api = local::start(options("flow", auth_mode))
        .await
        .expect("the local API starts");
    let steps = smoke::run(&api.url, &tokens(&api))
        .await
        .unwrap_or_else(|e| panic!("the smoke flow failed in {auth_mode:?} mode: {e}"));
    let names: Vec<&str> = steps.iter().map(|s| s.name).collect();
    for expected in [
        "an admin creates a product",
        "replace it with If-Match",
        "check out",
        "the same request again is a replay",
        "cancel it",
        "it is gone",
    ] {
        assert!(names.contains(&expected), "{expected} ran: {names:?}");
    }
    api
}

#[tokio::test]
async fn the_flow_passes_with_the_functions_verifying_tokens() {
    let api = the_flow_passes(AuthMode::Verify).await;
    api.stop().await;
}

#[tokio::test]
async fn the_flow_passes_behind_the_emulated_jwt_authorizer() {
    let api = the_flow_passes(AuthMode::Authorizer).await;
    let client = Client::new(&api.url).expect("a client");
    // The gateway answers for a protected route without a good token, before any function runs.
    let bare = client
        .send("GET", "/cart", &[], None)
        .await
        .expect("answers");
    assert_eq!(bare.status, 401);
    assert_eq!(bare.body, r#"{"message":"Unauthorized"}"#);
    assert_eq!(bare.header("www-authenticate").as_deref(), Some("Bearer"));
    let forged = client
        .send("GET", "/cart", &[("authorization", "Bearer a.b.c")], None)
        .await
        .expect("answers");
    assert_eq!(forged.status, 401);
    // The public routes carry no authorizer.
    let catalog = client
        .send("GET", "/products", &[], None)
        .await
        .expect("answers");
    assert_eq!(catalog.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn a_failed_step_is_named_and_what_it_made_is_removed() {
    let api = local::start(options("fail", AuthMode::Verify))
        .await
        .expect("the local API starts");
    let mut tokens = tokens(&api);
    // A shopper token the API refuses: the flow stops at the cart, after creating the product.
    tokens.shopper = "not-a-token".into();
    let err = smoke::run(&api.url, &tokens)
        .await
        .expect_err("a refused shopper fails the flow");
    assert!(
        err.to_string().contains("the shopper's cart starts empty")
            && err.to_string().contains("401"),
        "{err}"
    );
    // The product it created is gone again.
    let client = Client::new(&api.url).expect("a client");
    let page = client
        .send("GET", "/products?limit=100", &[], None)
        .await
        .expect("answers");
    assert!(!page.body.contains("smoke-"), "left behind: {}", page.body);
    api.stop().await;
}
