//! The single-table design: key attributes, the one index, and every item type.
//!
//! | item        | PK             | SK                   | GSI1PK     | GSI1SK | other attributes |
//! |-------------|----------------|----------------------|------------|--------|------------------|
//! | product     | `PRODUCT#<id>` | `PRODUCT`            | `PRODUCTS` | `<id>` | `entity`="product", `id`, `name`, `description`, `price`, `currency`, `stock`, `version`, `updated_at`, `etag` |
//! | cart        | `USER#<sub>`   | `CART`               |            |        | `entity`="cart", `lines` (map product id → quantity), `version`, `updated_at` |
//! | order       | `USER#<sub>`   | `ORDER#<order id>`   |            |        | `entity`="order", `id`, `items` (list of lines), `total`, `currency`, `status`, `created_at`, `cancelled_at`, `counts_open` |
//! | open orders | `USER#<sub>`   | `OPEN_ORDERS`        |            |        | `entity`="open-orders", `open_orders` (placed orders that count against `MAX_OPEN_ORDERS`) |
//! | idempotency | `USER#<sub>`   | `IDEMPOTENCY#<key>`  |            |        | `entity`="idempotency", `fingerprint`, `order_id`, `body` (the order), `status`, `location`, `expires_at` (TTL) |
//!
//! - Point reads and writes of a product use the base table key (one item per partition).
//! - `ListingKeys` (on `GSI1PK`/`GSI1SK`) lists products in id order: one `Query` per page, no `Scan`. It is sparse: only items
//!   that carry `GSI1PK` appear in it, so carts, orders and records stay out. It projects the keys
//!   only, so a write that changes no key (every checkout and cancel changing `stock`, `version`,
//!   `etag`) does not write the index: no sale writes its one catalog-wide partition `PRODUCTS`.
//!   A page then reads its products from the base table (one consistent `BatchGetItem`), so the
//!   stock it shows is as fresh as the page (docs/scale.md weighs the extra round trip).
//! - Everything a user owns shares the partition `USER#<sub>`: a request can only ever name its
//!   caller's partition, which is what keeps one user's cart, orders and keys from another's.
//!   Order ids are UUIDv7, so `ORDER#…` sorts by time and "newest first" is a reverse range read.
//! - `expires_at` (epoch seconds) is the table's TTL attribute: idempotency records expire 24 h
//!   after the order they answer. TTL deletion can lag, so reads also ignore expired records.
//!
//! `template.yaml` declares the same table; a test in the `local` crate fails if the two disagree.

use super::{DynamoStore, StoreError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// The listing index (keys only), keyed by the products' `GSI1PK`/`GSI1SK`: the attribute names of
/// the index it replaced, so products written before it are listed at once.
pub const LISTING_INDEX: &str = "ListingKeys";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Attribute holding a product's entity tag; conditional writes compare against it.
pub const ETAG: &str = "etag";

/// One key element, as `template.yaml` spells it: (attribute, `HASH` | `RANGE`).
pub type KeyElement = (&'static str, &'static str);

/// The table's key schema.
pub const TABLE_KEY: &[KeyElement] = &[(PK, "HASH"), (SK, "RANGE")];
/// Global secondary indexes: (name, key schema).
pub const INDEXES: &[(&str, &[KeyElement])] =
    &[(LISTING_INDEX, &[(GSI1PK, "HASH"), (GSI1SK, "RANGE")])];
/// What every index projects, as `template.yaml` spells it: the keys only (see the module doc).
pub const INDEX_PROJECTION: &str = "KEYS_ONLY";
/// Every key attribute is a string.
pub const KEY_ATTRIBUTES: &[&str] = &[PK, SK, GSI1PK, GSI1SK];

fn key_schema(elements: &[KeyElement]) -> Result<Vec<KeySchemaElement>, StoreError> {
    elements
        .iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(*name)
                .key_type(if *kind == "HASH" {
                    KeyType::Hash
                } else {
                    KeyType::Range
                })
                .build()
                .map_err(|e| StoreError::Internal(Box::new(e)))
        })
        .collect()
}

/// Every key attribute, as a string attribute definition.
fn attribute_definitions() -> Result<Vec<AttributeDefinition>, StoreError> {
    KEY_ATTRIBUTES
        .iter()
        .map(|name| {
            AttributeDefinition::builder()
                .attribute_name(*name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Internal(Box::new(e)))
        })
        .collect()
}

/// What every index projects ([`INDEX_PROJECTION`]).
fn projection() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(INDEX_PROJECTION))
        .build()
}

impl DynamoStore {
    /// Creates the table (and its TTL setting) unless it exists. For the local engine and tests;
    /// on AWS the table comes from `template.yaml`, and no function has permission to create one.
    /// Returns whether it created the table.
    pub async fn ensure_table(&self) -> Result<bool, StoreError> {
        let exists = self
            .client
            .list_tables()
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        if exists.table_names().iter().any(|t| t == &self.table) {
            self.add_missing_indexes().await?;
            return Ok(false);
        }
        let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Internal(Box::new(e));
        let mut create = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(TABLE_KEY)?));
        create = create.set_attribute_definitions(Some(attribute_definitions()?));
        for (index, key) in INDEXES {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*index)
                    .set_key_schema(Some(key_schema(key)?))
                    .projection(projection())
                    .build()
                    .map_err(internal)?,
            );
        }
        create.send().await.map_err(StoreError::from_sdk)?;
        // DynamoDB creates a table asynchronously (CREATING, then ACTIVE; an emulator at once):
        // its TTL setting and the first writes must wait for it.
        use aws_sdk_dynamodb::client::Waiters;
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(std::time::Duration::from_secs(300))
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(true)
    }
}

impl DynamoStore {
    /// Adds the indexes of [`INDEXES`] that an existing table lacks: a local table created by an
    /// older version (with `GSI1`, before `ListingKeys`) keeps its data and gains the listing index.
    async fn add_missing_indexes(&self) -> Result<(), StoreError> {
        let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Internal(Box::new(e));
        let present = self.describe_table().await?.indexes;
        for (index, key) in INDEXES {
            if present.iter().any(|(name, _)| name == index) {
                continue;
            }
            let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                .index_name(*index)
                .set_key_schema(Some(key_schema(key)?))
                .projection(projection())
                .build()
                .map_err(internal)?;
            self.client
                .update_table()
                .table_name(&self.table)
                .set_attribute_definitions(Some(attribute_definitions()?))
                .global_secondary_index_updates(
                    aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                        .create(create)
                        .build(),
                )
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
        }
        Ok(())
    }
}

/// What a live table looks like, in the same plain terms as the constants above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDescription {
    /// (attribute, `HASH` | `RANGE`)
    pub key: Vec<(String, String)>,
    /// (index name, key schema)
    pub indexes: Vec<(String, Vec<(String, String)>)>,
    /// (index name, projection type)
    pub projections: Vec<(String, String)>,
    pub ttl_attribute: Option<String>,
}

fn plain(key: &[KeySchemaElement]) -> Vec<(String, String)> {
    key.iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect()
}

impl DynamoStore {
    /// Describes the live table (key schema, indexes, TTL), so tests can compare it with
    /// `template.yaml` rather than trusting the constants.
    pub async fn describe_table(&self) -> Result<TableDescription, StoreError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let table = out
            .table
            .ok_or_else(|| StoreError::Internal("DescribeTable returned no table".into()))?;
        let mut indexes: Vec<(String, Vec<(String, String)>)> = table
            .global_secondary_indexes()
            .iter()
            .map(|i| {
                (
                    i.index_name().unwrap_or_default().to_owned(),
                    plain(i.key_schema()),
                )
            })
            .collect();
        indexes.sort();
        let mut projections: Vec<(String, String)> = table
            .global_secondary_indexes()
            .iter()
            .map(|i| {
                (
                    i.index_name().unwrap_or_default().to_owned(),
                    i.projection()
                        .and_then(|p| p.projection_type())
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect();
        projections.sort();
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(TableDescription {
            key: plain(table.key_schema()),
            indexes,
            projections,
            ttl_attribute: ttl.time_to_live_description.and_then(|d| d.attribute_name),
        })
    }
}
