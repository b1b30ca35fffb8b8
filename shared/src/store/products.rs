//! Product items and the catalog operations (see [`super::schema`] for the key layout).

use super::batch::batch_get;
use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::condition_for;
use super::keys::{self, Item, LISTING_PARTITION, to_item};
use super::ops::{
    DeleteProduct, GetProduct, GetProducts, ListProducts, ProductPage, PutOutcome, PutProduct,
};
use super::page::{page_fetch, page_of};
use super::schema::{GSI1PK, LISTING_INDEX};
use crate::domain::{
    Currency, EntityTag, Precondition, Product, ProductDraft, ProductId, Versioned, now_rfc3339,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const ENTITY: &str = "product";

/// Everything a put writes except the key (fixed) and `version` (computed by DynamoDB).
#[derive(Serialize)]
struct Fields<'a> {
    #[serde(rename = "GSI1PK")]
    gsi1pk: &'a str,
    #[serde(rename = "GSI1SK")]
    gsi1sk: &'a str,
    entity: &'a str,
    id: &'a str,
    name: &'a str,
    description: &'a str,
    price: i64,
    currency: &'a str,
    stock: i64,
    updated_at: &'a str,
    etag: &'a str,
}

/// A product item as read back; key attributes are ignored.
#[derive(Deserialize)]
struct Stored {
    #[serde(flatten)]
    product: Product,
    etag: String,
}

impl Stored {
    fn into_versioned(self) -> Versioned<Product> {
        Versioned {
            value: self.product,
            etag: EntityTag::from_stored(self.etag),
        }
    }
}

fn from_item(item: Item) -> Result<Versioned<Product>, StoreError> {
    serde_dynamo::from_item::<_, Stored>(item)
        .map(Stored::into_versioned)
        .map_err(StoreError::corrupt)
}

impl GetProduct for DynamoStore {
    async fn get_product(&self, id: &ProductId) -> Result<Option<Versioned<Product>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id).item()?))
            // A strongly consistent read, so a client that just wrote sees its write and the ETag it
            // holds; one item costs at most one read unit either way.
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        out.item.map(from_item).transpose()
    }
}

/// The key attributes a listing query returns: the index holds keys only.
#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "GSI1SK")]
    id: ProductId,
}

impl ListProducts for DynamoStore {
    async fn list_products(
        &self,
        after: Option<&ProductId>,
        limit: usize,
    ) -> Result<ProductPage, StoreError> {
        let start = after.map(keys::product_in_listing).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_values(":pk", AttributeValue::S(LISTING_PARTITION.to_owned()))
            .set_exclusive_start_key(start)
            .limit(page_fetch(limit))
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let (ids, more) = page_of(out.items, out.last_evaluated_key.is_some(), limit, |item| {
            serde_dynamo::from_item::<_, Listed>(item)
                .map(|l| l.id)
                .map_err(StoreError::corrupt)
        })?;
        // The products themselves, as they are now, from the base table; one deleted since the
        // index was read is simply not on the page.
        let keys = ids
            .iter()
            .map(|id| keys::product(id).item())
            .collect::<Result<Vec<_>, _>>()?;
        let mut found: HashMap<ProductId, Versioned<Product>> = batch_get(self, keys)
            .await?
            .into_iter()
            .map(|item| from_item(item).map(|p| (p.value.id.clone(), p)))
            .collect::<Result<_, _>>()?;
        let next = ids.last().filter(|_| more).cloned();
        let items = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(ProductPage { items, next })
    }
}

impl PutProduct for DynamoStore {
    async fn put_product(
        &self,
        id: &ProductId,
        draft: &ProductDraft,
        currency: &Currency,
        precondition: &Precondition,
    ) -> Result<(PutOutcome, Versioned<Product>), StoreError> {
        let etag = EntityTag::mint();
        let now = now_rfc3339();
        let fields = to_item(&Fields {
            gsi1pk: LISTING_PARTITION,
            gsi1sk: id.as_str(),
            entity: ENTITY,
            id: id.as_str(),
            name: draft.name(),
            description: draft.description(),
            price: draft.price(),
            currency: currency.as_str(),
            stock: draft.stock(),
            updated_at: &now,
            etag: etag.as_str(),
        })?;
        // One UpdateItem: every field is SET from the serde-mapped item, and DynamoDB itself computes
        // the next version, so there is no read-modify-write window between two writers.
        let mut names = HashMap::from([("#version".to_owned(), "version".to_owned())]);
        let mut values: Item = HashMap::from([
            (":zero".to_owned(), AttributeValue::N("0".to_owned())),
            (":one".to_owned(), AttributeValue::N("1".to_owned())),
        ]);
        let mut sets = Vec::with_capacity(fields.len() + 1);
        for (i, (name, value)) in fields.into_iter().enumerate() {
            sets.push(format!("#f{i} = :f{i}"));
            names.insert(format!("#f{i}"), name);
            values.insert(format!(":f{i}"), value);
        }
        sets.push("#version = if_not_exists(#version, :zero) + :one".to_owned());
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id).item()?))
            .update_expression(format!("SET {}", sets.join(", ")))
            .return_values(ReturnValue::AllNew);
        if let Some((condition, tags)) = condition_for(precondition, false) {
            request = request.condition_expression(condition);
            for (placeholder, tag) in tags {
                values.insert(placeholder, AttributeValue::S(tag));
            }
        }
        let out = request
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|err| {
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception())
                {
                    StoreError::PreconditionFailed
                } else {
                    StoreError::from_sdk(err)
                }
            })?;
        let stored = from_item(out.attributes.unwrap_or_default())?;
        let outcome = if stored.value.version == 1 {
            PutOutcome::Created
        } else {
            PutOutcome::Replaced
        };
        Ok((outcome, stored))
    }
}

impl DeleteProduct for DynamoStore {
    async fn delete_product(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> Result<(), StoreError> {
        // Always a condition: `require_item` adds `attribute_exists(PK)`, so a missing item fails it.
        let (condition, tags) = condition_for(precondition, true).unwrap_or_default();
        let values: Item = tags
            .into_iter()
            .map(|(p, t)| (p, AttributeValue::S(t)))
            .collect();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id).item()?))
            .condition_expression(condition)
            .set_expression_attribute_values(if values.is_empty() { None } else { Some(values) })
            // On a failed condition DynamoDB returns the current item, if any: that single round
            // trip tells "not there" (404) from "changed since you read it" (412).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(e)) => {
                    if e.item().is_some() { StoreError::PreconditionFailed } else { StoreError::NotFound }
                }
                _ => StoreError::from_sdk(err),
            })?;
        Ok(())
    }
}

impl GetProducts for DynamoStore {
    async fn get_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| keys::product(id).item())
            .collect::<Result<Vec<_>, _>>()?;
        let items = batch_get(self, keys).await?;
        items
            .into_iter()
            .map(|item| from_item(item).map(|p| (p.value.id.clone(), p.value)))
            .collect()
    }
}

/// The product mapping, for the criterion benchmarks only (feature `testing`) (`cargo bench -p shared --bench
/// mapping`): the item stays opaque, so DynamoDB types still do not leave the store.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod bench_support {
    use super::*;

    /// A product item as DynamoDB returns it.
    pub struct StoredProduct(Item);

    /// The item a put of `product` stores (key, index keys, fields, version, tag).
    pub fn stored(product: &Versioned<Product>) -> Result<StoredProduct, StoreError> {
        let p = &product.value;
        let mut item = to_item(&Fields {
            gsi1pk: LISTING_PARTITION,
            gsi1sk: p.id.as_str(),
            entity: ENTITY,
            id: p.id.as_str(),
            name: &p.name,
            description: &p.description,
            price: p.price,
            currency: &p.currency,
            stock: p.stock,
            updated_at: &p.updated_at,
            etag: product.etag.as_str(),
        })?;
        item.extend(keys::product(&p.id).item()?);
        item.insert("version".into(), AttributeValue::N(p.version.to_string()));
        Ok(StoredProduct(item))
    }

    /// Item → product, as every read does.
    pub fn decode(item: StoredProduct) -> Result<Versioned<Product>, StoreError> {
        from_item(item.0)
    }

    impl Clone for StoredProduct {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }
}
