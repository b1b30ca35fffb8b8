//! BatchGetItem of our table (consistent unless asked otherwise), with DynamoDB's unprocessed keys
//! retried.

use super::client::DynamoStore;
use super::error::StoreError;
use super::keys::Item;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use std::time::Duration;

/// Most keys one BatchGetItem takes.
pub(super) const BATCH_GET_MAX: usize = 100;
/// Rounds of retrying the keys DynamoDB leaves unprocessed (under throttling) before giving up.
const BATCH_GET_ROUNDS: u32 = 5;

/// Strongly consistent BatchGetItem of up to 100 keys of our table, retrying unprocessed keys
/// with backoff. Missing items are simply absent from the result.
pub(super) async fn batch_get(
    store: &DynamoStore,
    keys: Vec<Item>,
) -> Result<Vec<Item>, StoreError> {
    batch_get_as(store, keys, true).await
}

/// As [`batch_get`], eventually consistent when `consistent` is false: half the read units, for a
/// read whose figures a transaction re-checks anyway.
pub(super) async fn batch_get_as(
    store: &DynamoStore,
    keys: Vec<Item>,
    consistent: bool,
) -> Result<Vec<Item>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if keys.len() > BATCH_GET_MAX {
        return Err(StoreError::Internal(
            format!("{} keys in one BatchGetItem", keys.len()).into(),
        ));
    }
    let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Internal(Box::new(e));
    let mut request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(consistent)
        .build()
        .map_err(internal)?;
    let mut found = Vec::new();
    for round in 0..BATCH_GET_ROUNDS {
        let out = store
            .client
            .batch_get_item()
            .request_items(&store.table, request.clone())
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        if let Some(mut responses) = out.responses {
            found.extend(responses.remove(&store.table).unwrap_or_default());
        }
        match out
            .unprocessed_keys
            .and_then(|mut u| u.remove(&store.table))
        {
            Some(rest) if !rest.keys().is_empty() => {
                request = rest;
                tokio::time::sleep(Duration::from_millis(10 << round)).await;
            }
            _ => return Ok(found),
        }
    }
    Err(StoreError::Unavailable(
        "BatchGetItem left keys unprocessed after retries".into(),
    ))
}
