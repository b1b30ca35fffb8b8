//! A user's whole partition, read back for the chaos checker (feature `testing`).

use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::s;
use super::keys::{IDEMPOTENCY_SK_PREFIX, user_pk};
use super::orders::{RecordItem, order_from_item};
use crate::domain::{Order, UserId};
use serde::Deserialize;

/// Everything checkout left in one user's partition: for the statelessness harness's checker,
/// which compares it with what clients were told. Behind the `testing` feature: no function
/// is built with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAudit {
    pub orders: Vec<Order>,
    /// Each idempotency record: its key, and the id of the order it answers with.
    pub keys: Vec<(String, Option<String>)>,
}

#[derive(Deserialize)]
struct AnyItem {
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
}

impl DynamoStore {
    /// Reads a user's whole partition (all pages), consistently.
    pub async fn audit_user(&self, user: &UserId) -> Result<UserAudit, StoreError> {
        let mut audit = UserAudit::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "PK")
                .expression_attribute_values(":pk", s(user_pk(user)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            for item in out.items.unwrap_or_default() {
                let kind: AnyItem =
                    serde_dynamo::from_item(item.clone()).map_err(StoreError::corrupt)?;
                match kind.entity.as_str() {
                    "order" => audit.orders.push(order_from_item(item)?),
                    "idempotency" => {
                        let record: RecordItem =
                            serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                        let order = record.order().ok().map(|o| o.id.to_string());
                        let key = kind
                            .sk
                            .strip_prefix(IDEMPOTENCY_SK_PREFIX)
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
}
