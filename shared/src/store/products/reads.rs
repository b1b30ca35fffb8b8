//! Product reads: a product whole (its item and, when its stock is split, its buckets), one or
//! several at once, a page of the catalog, and a shopper's read through the hot copy.

use super::{Bucket, SPLIT_READS, Stored, Whole, from_item};
use crate::domain::{MAX_STOCK_BUCKETS, Product, ProductId, Versioned};
use crate::store::batch::{BATCH_GET_MAX, batch_get, batch_get_as};
use crate::store::client::DynamoStore;
use crate::store::error::StoreError;
use crate::store::expr::{Expr, WithPlaceholders, s};
use crate::store::keys::{self, Key, LISTING_PARTITION};
use crate::store::ops::ProductPage;
use crate::store::page::{page_fetch, page_of};
use crate::store::retry::Patience;
use crate::store::schema::{GSI1PK, LISTING_INDEX};
use serde::Deserialize;
use std::collections::HashMap;

impl DynamoStore {
    /// Completes product items with their buckets: one more consistent `BatchGetItem` (per 100
    /// buckets) when any of them is split, none otherwise.
    pub(super) async fn wholes(&self, heads: Vec<Stored>) -> Result<Vec<Whole>, StoreError> {
        let mut wanted = Vec::new();
        let spread =
            |head: &Stored| head.product.stock_buckets.clamp(1, MAX_STOCK_BUCKETS) as usize;
        for head in &heads {
            for b in 1..spread(head) {
                wanted.push(keys::stock_bucket(&head.product.id, b));
            }
        }
        let mut found: HashMap<String, Bucket> = HashMap::new();
        for chunk in wanted.chunks(BATCH_GET_MAX) {
            let keys = chunk.iter().map(Key::item).collect::<Result<Vec<_>, _>>()?;
            for item in batch_get(self, keys).await? {
                let bucket: Bucket = serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                found.insert(bucket.pk.clone(), bucket);
            }
        }
        Ok(heads
            .into_iter()
            .map(|head| {
                let buckets = (1..spread(&head))
                    .map(|b| found.remove(&keys::stock_bucket(&head.product.id, b).pk))
                    .collect();
                Whole { head, buckets }
            })
            .collect())
    }

    /// The product as it is now, buckets included: one consistent `GetItem`, and one
    /// `BatchGetItem` of its buckets when split; both again when a new split landed between
    /// them (see [`Whole::one_split`]).
    pub(in crate::store) async fn read_whole(
        &self,
        id: &ProductId,
    ) -> Result<Option<Whole>, StoreError> {
        let mut pause = Patience::new();
        let mut read = 0;
        loop {
            read += 1;
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(keys::product(id).item()?))
                // A strongly consistent read, so a client that just wrote sees its write and the
                // ETag it holds; one item costs at most one read unit either way.
                .consistent_read(true)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            let Some(item) = out.item else {
                return Ok(None);
            };
            let whole = self.wholes(vec![from_item(item)?]).await?.pop();
            if whole.as_ref().is_none_or(Whole::one_split) {
                return Ok(whole);
            }
            // Still mixed after a few reads: not a re-split landing between two reads but items
            // left so (a split written by a release before layouts, after a rollback; a bucket
            // lost). What is there is the answer, as before layouts; the next split write of the
            // product stamps every item again.
            if read >= SPLIT_READS || !pause.pause().await {
                tracing::warn!(product = %id, "a split product's items carry different layouts");
                return Ok(whole);
            }
        }
    }

    /// Every bucket of a product split over `spread` (as last known), in one eventually
    /// consistent `BatchGetItem`: what a checkout reads to draw again after a bucket was short.
    /// Read consistently, in two calls, when the split changed since.
    pub(in crate::store) async fn read_stocks(
        &self,
        id: &ProductId,
        spread: u32,
    ) -> Result<Option<Whole>, StoreError> {
        let keys = (0..spread.max(1) as usize)
            .map(|b| keys::stock_holder(id, b).item())
            .collect::<Result<Vec<_>, _>>()?;
        let head_pk = keys::product(id).pk;
        let mut head = None;
        let mut found: HashMap<String, Bucket> = HashMap::new();
        for item in batch_get_as(self, keys, false).await? {
            let pk = item.get("PK").and_then(|v| v.as_s().ok()).cloned();
            if pk.as_deref() == Some(head_pk.as_str()) {
                head = Some(from_item(item)?);
            } else {
                let bucket: Bucket = serde_dynamo::from_item(item).map_err(StoreError::corrupt)?;
                found.insert(bucket.pk.clone(), bucket);
            }
        }
        let Some(head) = head else {
            return Ok(None);
        };
        if head.product.stock_buckets.max(1) != spread.max(1) {
            return self.read_whole(id).await;
        }
        let buckets = (1..spread.max(1) as usize)
            .map(|b| found.remove(&keys::stock_bucket(id, b).pk))
            .collect();
        let whole = Whole { head, buckets };
        if !whole.one_split() {
            return self.read_whole(id).await;
        }
        Ok(Some(whole))
    }

    /// Several products, buckets included, in no particular order; one that a new split
    /// landed on between the two reads is read again on its own.
    pub(super) async fn read_wholes(&self, ids: &[ProductId]) -> Result<Vec<Whole>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| keys::product(id).item())
            .collect::<Result<Vec<_>, _>>()?;
        let heads = batch_get(self, keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let mut wholes = Vec::with_capacity(heads.len());
        for whole in self.wholes(heads).await? {
            if whole.one_split() {
                wholes.push(whole);
            } else if let Some(again) = self.read_whole(&whole.head.product.id).await? {
                wholes.push(again);
            }
        }
        Ok(wholes)
    }
}

impl DynamoStore {
    /// `GET /products/{id}`: one consistent read (and one of its stock buckets, if split).
    pub async fn get_product(
        &self,
        id: &ProductId,
    ) -> Result<Option<Versioned<Product>>, StoreError> {
        Ok(self.read_whole(id).await?.map(Whole::into_versioned))
    }
}

/// The key attributes a listing query returns: the index holds keys only.
#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "GSI1SK")]
    id: ProductId,
}

impl DynamoStore {
    /// `GET /products`: one query per page, in id order.
    pub async fn list_products(
        &self,
        after: Option<&ProductId>,
        limit: usize,
    ) -> Result<ProductPage, StoreError> {
        let start = after.map(keys::product_in_listing).transpose()?;
        let mut e = Expr::new();
        let condition = format!(
            "{} = {}",
            e.name(GSI1PK),
            e.value("pk", s(LISTING_PARTITION))
        );
        let bound = e.done(&[&condition])?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression(condition)
            .placeholders(bound)
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
        let mut found: HashMap<ProductId, Versioned<Product>> = self
            .read_wholes(&ids)
            .await?
            .into_iter()
            .map(|w| {
                let p = w.into_versioned();
                (p.value.id.clone(), p)
            })
            .collect();
        let next = ids.last().filter(|_| more).cloned();
        let items = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(ProductPage { items, next })
    }
}

impl DynamoStore {
    /// Several products by id, as they are now (one consistent BatchGetItem of at most 100 ids).
    /// Ids that match no product are absent from the map.
    pub async fn get_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let found: HashMap<ProductId, Product> = self
            .read_wholes(ids)
            .await?
            .into_iter()
            .map(|w| {
                let p = w.into_versioned().value;
                (p.id.clone(), p)
            })
            .collect();
        // A fresh read is the best copy there is: the hot cache takes it.
        self.hot.remember(ids, &found);
        Ok(found)
    }
}

impl DynamoStore {
    /// Several products by id, for a shopper's cart and checkout: as
    /// [`DynamoStore::get_products`], except that a product whose stock is split into buckets (a
    /// hot product) may be answered from what this instance read of it in the last second
    /// (`store::hot`). Its catalog fields and stock may be that old; the checkout transaction
    /// re-checks price and stock where they count, so nothing is sold on them.
    pub async fn shop_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let (mut found, unknown) = self.hot.recall(ids);
        if !unknown.is_empty() {
            found.extend(self.get_products(&unknown).await?);
        }
        Ok(found)
    }
}
