//! `--dynamodb-url`: the local API on a DynamoDB it did not start (here a second engine, standing
//! in for DynamoDB Local or a real table): it creates the table only when told to, and then
//! serves from it.

use local::Options;

fn options(url: &str, create_table: bool) -> Options {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Options {
        addr: "127.0.0.1:0".into(),
        dynamodb_addr: "127.0.0.1:0".into(),
        data_dir: std::env::temp_dir().join(format!(
            "stateless-shop-external-{}-{nanos}",
            std::process::id()
        )),
        memory: true,
        table: "shop-elsewhere".into(),
        seed: true,
        external_issuer: None,
        cors: local::cors::Cors::default(),
        transaction_hold: None,
        auth_mode: shared::auth::AuthMode::Verify,
        dynamodb_url: Some(url.to_owned()),
        create_table,
    }
}

#[tokio::test]
async fn a_missing_table_is_created_only_when_asked_and_then_served() {
    let engine = devkit::Engine::memory().await.expect("an engine");
    let url = engine.endpoint();
    let refused = match local::start(options(&url, false)).await {
        Ok(_) => panic!("no table there, and none was to be created"),
        Err(err) => err.to_string(),
    };
    assert!(
        refused.contains("shop-elsewhere") && refused.contains("--create-table"),
        "{refused}"
    );
    let api = local::start(options(&url, true))
        .await
        .expect("starts, creating the table");
    assert_eq!(api.engine_endpoint, url);
    assert!(api.seeded > 0, "an empty catalog got the demo products");
    let page: serde_json::Value = reqwest::get(format!("{}/products", api.url))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert!(
        page["items"].as_array().is_some_and(|i| !i.is_empty()),
        "{page}"
    );
    api.stop().await;
    // The table is there now: a start without --create-table finds it.
    let again = local::start(options(&url, false))
        .await
        .expect("finds the table");
    assert_eq!(again.seeded, 0, "the catalog is not empty any more");
    again.stop().await;
    engine.shutdown().await;
    // The isolation model fronts the embedded engine only.
    let mut held = options(&url, true);
    held.transaction_hold = Some(std::time::Duration::from_millis(5));
    assert!(local::start(held).await.is_err());
}
