//! What the local API's end-to-end tests share: a local API of their own, and tokens for it.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use devkit::tokens::TokenSpec;
use local::{Options, Running, Trust};

pub const TABLE: &str = "stateless-shop";

/// A local API in memory, with its own data folder, with DynamoDB's transaction isolation
/// modelled: each transaction holds its items `hold` beyond the engine's own time.
pub async fn start(name: &str, hold: std::time::Duration) -> Running {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    local::start(Options {
        addr: "127.0.0.1:0".into(),
        dynamodb_addr: "127.0.0.1:0".into(),
        data_dir: std::env::temp_dir().join(format!("stateless-shop-{name}-{nanos}")),
        memory: true,
        table: TABLE.into(),
        seed: false,
        external_issuer: None,
        cors: local::cors::Cors::default(),
        transaction_hold: Some(hold),
        auth_mode: shared::auth::AuthMode::Verify,
        dynamodb_url: None,
        create_table: false,
    })
    .await
    .expect("the local API starts")
}

/// `Bearer <token>` from the local API's development issuer.
pub fn bearer(api: &Running, spec: &TokenSpec) -> String {
    match &api.trust {
        Trust::Dev(issuer) => format!("Bearer {}", issuer.mint(spec)),
        Trust::External { .. } => panic!("these tests run with the development issuer"),
    }
}

/// The response's `ETag`.
pub fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned()
}
