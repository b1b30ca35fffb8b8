//! Admin writes of a product whose stock is in one item: `PUT` as one `UpdateItem` and `DELETE`
//! as one `DeleteItem`, each conditioned on the stock not being split. A product that is split
//! (or is to be) goes to the transactions in `split`.

use super::{PutCall, Whole, from_item, set_all, split};
use crate::domain::{
    Currency, EntityTag, Precondition, Product, ProductDraft, ProductId, Versioned,
};
use crate::store::client::DynamoStore;
use crate::store::error::StoreError;
use crate::store::expr::{Expr, WithPlaceholders, condition_for, group, n};
use crate::store::keys;
use crate::store::ops::PutOutcome;
use crate::store::retry;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

/// Why the one-item put did not happen.
enum Single {
    PreconditionFailed,
    /// The product's stock is split: the put must go through [`DynamoStore::put_spread`].
    Spread,
}

/// `(attribute_not_exists(#stock_buckets) OR #stock_buckets = :one)`: the stock is in one item.
fn not_split(e: &mut Expr) -> String {
    let spread = e.name("stock_buckets");
    format!(
        "(attribute_not_exists({spread}) OR {spread} = {})",
        e.value("one", n(1))
    )
}

impl DynamoStore {
    /// `PUT /products/{id}`: one conditional update; a transaction over the product and its stock
    /// buckets when its stock is, or is to be, split.
    pub async fn put_product(
        &self,
        id: &ProductId,
        draft: &ProductDraft,
        currency: &Currency,
        precondition: &Precondition,
    ) -> Result<(PutOutcome, Versioned<Product>), StoreError> {
        let call = PutCall {
            id,
            draft,
            currency,
        };
        if draft.stock_buckets().unwrap_or(1) == 1 {
            match self.put_single(&call, precondition).await? {
                Ok(stored) => {
                    let outcome = if stored.value.version == 1 {
                        PutOutcome::Created
                    } else {
                        PutOutcome::Replaced
                    };
                    return Ok((outcome, stored));
                }
                Err(Single::PreconditionFailed) => return Err(StoreError::PreconditionFailed),
                Err(Single::Spread) => {}
            }
        }
        self.put_spread(&call, precondition).await
    }

    /// The common case, one `UpdateItem`: a product whose stock is and stays in one item. The
    /// condition also requires the stock not to be split, so a put never strands buckets.
    async fn put_single(
        &self,
        call: &PutCall<'_>,
        precondition: &Precondition,
    ) -> Result<Result<Versioned<Product>, Single>, StoreError> {
        let etag = EntityTag::mint();
        let now = crate::domain::Timestamp::now();
        let fields = call.fields(call.draft.stock(), 1, now.as_str(), &etag, None)?;
        // Every field is SET from the serde-mapped item, and DynamoDB itself computes the next
        // version, so there is no read-modify-write window between two writers.
        let mut e = Expr::new();
        let update = set_all(&mut e, fields);
        let mut condition = not_split(&mut e);
        if let Some(precondition) = condition_for(&mut e, precondition, false) {
            condition = format!("{} AND {condition}", group(&precondition));
        }
        let update = e
            .update_item(
                &self.client,
                &self.table,
                &keys::product(call.id),
                update,
                condition,
            )?
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let out = retry::write(|| update.clone().send()).await?;
        match out {
            Ok(out) => {
                let stored = from_item(out.attributes.unwrap_or_default())?;
                Ok(Ok(Whole {
                    head: stored,
                    buckets: Vec::new(),
                }
                .into_versioned()))
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => {
                    Ok(Err(if e.item().is_some_and(split) {
                        Single::Spread
                    } else {
                        Single::PreconditionFailed
                    }))
                }
                _ => Err(StoreError::from_sdk(err)),
            },
        }
    }

    /// `DELETE /products/{id}`: one conditional delete (one transaction with its stock buckets
    /// when split). [`StoreError::NotFound`] when nothing was there and
    /// [`StoreError::PreconditionFailed`] when the item exists but fails `precondition`.
    pub async fn delete_product(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> Result<(), StoreError> {
        // Always a condition: `require_item` adds `attribute_exists(PK)`, so a missing item fails
        // it. A product whose stock is split fails it too, and goes to the transaction.
        let mut e = Expr::new();
        let tags = condition_for(&mut e, precondition, true).unwrap_or_default();
        let condition = format!("{} AND {}", group(&tags), not_split(&mut e));
        let bound = e.done(&[&condition])?;
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id).item()?))
            .condition_expression(condition)
            .placeholders(bound)
            // On a failed condition DynamoDB returns the current item, if any: that single round
            // trip tells "not there" (404) from "changed since you read it" (412).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let deleted = retry::write(|| delete.clone().send()).await?;
        let err = match deleted {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        let current = match err.as_service_error() {
            Some(DeleteItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
            _ => return Err(StoreError::from_sdk(err)),
        };
        match current {
            None => Err(StoreError::NotFound),
            Some(item) if split(&item) => self.delete_spread(id, precondition).await,
            Some(_) => Err(StoreError::PreconditionFailed),
        }
    }
}
