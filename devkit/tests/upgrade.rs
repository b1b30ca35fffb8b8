//! A table created by an older version (its listing index `GSI1`, projection ALL, before
//! `ListingKeys`) keeps its data and gains the listing index when the local API or a test opens it:
//! `cargo run -p local` on an old `.local-data` lists the catalog as before.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use shared::DynamoStore;
use shared::domain::{Currency, Precondition, ProductDraft, ProductId};
use shared::store::schema;

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("a key element")
}

#[tokio::test]
async fn an_old_table_gains_the_listing_index_and_keeps_its_products() {
    let engine = devkit::Engine::memory().await.expect("an engine");
    let table = "old-layout";
    let client = devkit::audit::client(&engine.endpoint());
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("GSI1")
                .key_schema(key("GSI1PK", KeyType::Hash))
                .key_schema(key("GSI1SK", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("the old index"),
        );
    for name in ["PK", "SK", "GSI1PK", "GSI1SK"] {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("an attribute"),
        );
    }
    create.send().await.expect("the old table");

    let store = DynamoStore::local(&engine.endpoint(), table);
    let id = ProductId::parse("old-mug").expect("an id");
    let draft = ProductDraft::parse(&serde_json::json!({
        "name": "Mug", "description": "", "price": 900, "stock": 3
    }))
    .expect("a draft");
    store
        .put_product(&id, &draft, &Currency::default(), &Precondition::None)
        .await
        .expect("a product written under the old layout");

    assert!(!store.ensure_table().await.expect("opens the old table"));
    let indexes: Vec<String> = store
        .describe_table()
        .await
        .expect("describes")
        .indexes
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        indexes.iter().any(|n| n == schema::LISTING_INDEX),
        "{indexes:?}"
    );
    let page = store.list_products(None, 10).await.expect("lists");
    let ids: Vec<&str> = page.items.iter().map(|p| p.value.id.as_str()).collect();
    assert_eq!(ids, ["old-mug"], "the product written before is listed");
    engine.shutdown().await;
}
