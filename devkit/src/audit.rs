//! A user's whole partition, read back from the engine for the chaos checker: the orders and the
//! idempotency records checkout left there. Test code, so it lives here and not in `shared`: it
//! reads the table with its own client and the layout of `shared::store::schema`, and no function
//! binary can carry it.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use shared::domain::{Order, UserId};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything checkout left in one user's partition, to compare with what clients were told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAudit {
    pub orders: Vec<Order>,
    /// Each idempotency record: its key, and the id of the order it answers with (`None` when its
    /// stored order does not parse, which the checker reports).
    pub keys: Vec<(String, Option<String>)>,
}

#[derive(Deserialize)]
struct AnyItem {
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
}

#[derive(Deserialize)]
struct Record {
    body: String,
}

/// A raw SDK client for the engine at `endpoint` (throwaway static credentials), for test code
/// that reads or shapes the table below `shared::store` (this audit, an old table layout).
pub fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "devkit-audit",
        ))
        .region(Region::new("local"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Reads `user`'s whole partition of `table` (all pages, consistently) on the engine at `endpoint`.
pub async fn audit_user(endpoint: &str, table: &str, user: &UserId) -> Result<UserAudit, BoxError> {
    let client = client(endpoint);
    let mut audit = UserAudit::default();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "PK")
            .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user}")))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            let kind: AnyItem = serde_dynamo::from_item(item.clone())?;
            match kind.entity.as_str() {
                "order" => audit.orders.push(serde_dynamo::from_item(item)?),
                "idempotency" => {
                    let record: Record = serde_dynamo::from_item(item)?;
                    let order = serde_json::from_str::<Order>(&record.body)
                        .ok()
                        .map(|o| o.id.to_string());
                    let key = kind
                        .sk
                        .strip_prefix("IDEMPOTENCY#")
                        .unwrap_or(&kind.sk)
                        .to_owned();
                    audit.keys.push((key, order));
                }
                _ => {}
            }
        }
        match out.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(audit),
        }
    }
}

/// Every item that holds stock of `product`, as `(bucket, stock)`, read straight from the table:
/// the product item is bucket 0 (its `stock_buckets` is returned too, 0 when the product is gone),
/// and each bucket item `PRODUCT#<id>#<i>` is bucket `i`. The checker holds these against the
/// product's split: no bucket below 0, none at or past `stock_buckets`.
pub async fn stock_items(
    endpoint: &str,
    table: &str,
    product: &str,
) -> Result<(u32, Vec<(usize, i64)>), BoxError> {
    #[derive(Deserialize)]
    struct Held {
        #[serde(rename = "PK")]
        pk: String,
        #[serde(default)]
        stock: i64,
        #[serde(default)]
        stock_buckets: Option<u32>,
    }
    let client = client(endpoint);
    let head = format!("PRODUCT#{product}");
    let mut spread = 0;
    let mut held = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .filter_expression("PK = :head OR begins_with(PK, :bucket)")
            .expression_attribute_values(":head", AttributeValue::S(head.clone()))
            .expression_attribute_values(":bucket", AttributeValue::S(format!("{head}#")))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            let item: Held = serde_dynamo::from_item(item)?;
            let bucket = if item.pk == head {
                spread = item.stock_buckets.unwrap_or(1);
                0
            } else {
                item.pk[head.len() + 1..].parse()?
            };
            held.push((bucket, item.stock));
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    held.sort_unstable();
    Ok((spread, held))
}
