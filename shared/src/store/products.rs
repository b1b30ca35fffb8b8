//! Product items, their stock buckets, and the catalog operations (see [`super::schema`] for the
//! key layout).
//!
//! A product's stock is in its item, or, when an admin splits it over K buckets
//! (`stock_buckets`), in its item (bucket 0) and K-1 bucket items, each its own partition key
//! (`PRODUCT#<id>#<i>`), so that checkouts of one hot product spread their writes. Every read
//! sums the buckets and tags the product with a digest of every item's tag; every admin write
//! touches them all in one transaction (`domain::stock` holds the rules).

use super::batch::{BATCH_GET_MAX, batch_get, batch_get_as};
use super::client::DynamoStore;
use super::error::StoreError;
use super::error::{Class, classify_cancellation};
use super::expr::{build, condition_for, group, n, s};
use super::keys::{self, Item, Key, LISTING_PARTITION, to_item};
use super::ops::{ProductPage, PutOutcome};
use super::page::{page_fetch, page_of};
use super::retry::{self, Patience};
use super::schema::{GSI1PK, LISTING_INDEX};
use super::txn::{Sent, Throttled, code};
use crate::domain::{
    Currency, EntityTag, MAX_STOCK_BUCKETS, Precondition, Product, ProductDraft, ProductId,
    Versioned, now_rfc3339, stock,
};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const ENTITY: &str = "product";
const BUCKET_ENTITY: &str = "stock-bucket";
/// How long an instance reuses what it read of a product split into buckets, for a shopper's
/// cart and checkout ([`ShopProducts`]). A hot product's item would otherwise take a read from
/// every add-to-cart and every checkout, and its partition's reads would bind long before the
/// buckets' writes do (docs/scale.md).
const HOT_FOR: Duration = Duration::from_secs(1);
/// Most products the hot cache holds before it drops what has expired.
const HOT_MAX: usize = 1024;
/// Reads of a product that may meet a new split landing between its two reads: a re-split is
/// a rare admin write, so a mix seen three times in a row, a pause apart, is not one landing.
const SPLIT_READS: usize = 3;

/// Products split into buckets, as this instance last read them, and when.
pub(super) type HotProducts = Arc<Mutex<HashMap<ProductId, (Instant, Product)>>>;

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
    /// Bucket 0's stock: all of it when the product is not split.
    stock: i64,
    stock_buckets: u32,
    /// The split's identity, on the product and on every bucket it wrote (see [`Whole`]); absent
    /// on a product that is not split.
    #[serde(skip_serializing_if = "Option::is_none")]
    layout: Option<&'a str>,
    updated_at: &'a str,
    etag: &'a str,
}

/// A stock bucket item (bucket 1 to K-1). It carries the price, so that a checkout's condition
/// on it needs no read of the product item.
#[derive(Serialize, Deserialize)]
struct Bucket {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    stock: i64,
    price: i64,
    version: u64,
    etag: String,
    updated_at: String,
    /// The split that wrote it: the product item's `layout` at that write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    layout: Option<String>,
}

/// A product item as read back; key attributes are ignored.
#[derive(Deserialize)]
struct Stored {
    #[serde(flatten)]
    product: Product,
    etag: String,
    #[serde(default)]
    layout: Option<String>,
}

fn from_item(item: Item) -> Result<Stored, StoreError> {
    serde_dynamo::from_item::<_, Stored>(item).map_err(StoreError::corrupt)
}

/// A product as stored: its item, and the items of buckets 1 to K-1 when its stock is split.
pub(super) struct Whole {
    head: Stored,
    /// Bucket `i` at index `i - 1`; `None` for one not found (a table no write of ours leaves).
    buckets: Vec<Option<Bucket>>,
}

impl Whole {
    /// Whether the product item and its buckets were read from one split: every bucket its
    /// split names is there and was written with it. A product is two reads (its item, then its
    /// buckets), and an admin's new split may land between them; what is read then mixes two
    /// splits into a stock and a tag that never existed, and is read again.
    fn one_split(&self) -> bool {
        self.buckets
            .iter()
            .all(|b| b.as_ref().is_some_and(|b| b.layout == self.head.layout))
    }

    /// How many buckets the stock is split over.
    pub(super) fn spread(&self) -> u32 {
        self.head.product.stock_buckets.clamp(1, MAX_STOCK_BUCKETS)
    }

    /// Each bucket's stock, bucket 0 first.
    pub(super) fn stocks(&self) -> Vec<i64> {
        std::iter::once(self.head.product.stock)
            .chain(
                self.buckets
                    .iter()
                    .map(|b| b.as_ref().map_or(0, |b| b.stock)),
            )
            .collect()
    }

    /// The product's entity tag: the item's own when the stock is not split, else a digest of
    /// every item's tag, so that it changes when any bucket does (an `If-Match` then holds only
    /// for the product as it was read, stock included).
    fn etag(&self) -> EntityTag {
        if self.buckets.is_empty() {
            return EntityTag::from_stored(self.head.etag.clone());
        }
        let tags = self
            .buckets
            .iter()
            .map(|b| b.as_ref().map_or("", |b| b.etag.as_str()));
        split_tag(
            self.head.layout.as_deref(),
            self.stocks().iter().sum(),
            combined_tag(&self.head.etag, tags),
        )
    }

    fn into_versioned(self) -> Versioned<Product> {
        let etag = self.etag();
        let stock = self.stocks().iter().sum();
        let mut product = self.head.product;
        product.stock = stock;
        Versioned {
            value: product,
            etag,
        }
    }
}

/// A split product's tag: `<layout>.<stock>.<digest>`. Still strong (the digest changes with any
/// item), and it says which split the client read (an admin write mints a new layout; a sale
/// does not) and the stock it saw: what [`DynamoStore::restock`] needs to apply a restock over a
/// read that sales have moved on from. Opaque to clients. A split from before layouts keeps the
/// bare digest.
fn split_tag(layout: Option<&str>, stock: i64, digest: EntityTag) -> EntityTag {
    match layout {
        Some(layout) => EntityTag::from_stored(format!("{layout}.{stock}.{}", digest.as_str())),
        None => digest,
    }
}

/// What a split product's tag says of the read it came from: (layout, stock).
fn read_in(tag: &EntityTag) -> Option<(&str, i64)> {
    let mut parts = tag.as_str().splitn(3, '.');
    let layout = parts.next()?;
    let stock = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((layout, stock))
}

fn combined_tag<'a>(head: &str, buckets: impl Iterator<Item = &'a str>) -> EntityTag {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(head.as_bytes());
    for tag in buckets {
        digest.update(b":");
        digest.update(tag.as_bytes());
    }
    let hex: String = digest
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    EntityTag::from_stored(hex)
}

impl DynamoStore {
    /// Completes product items with their buckets: one more consistent `BatchGetItem` (per 100
    /// buckets) when any of them is split, none otherwise.
    async fn wholes(&self, heads: Vec<Stored>) -> Result<Vec<Whole>, StoreError> {
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
    pub(super) async fn read_whole(&self, id: &ProductId) -> Result<Option<Whole>, StoreError> {
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
    pub(super) async fn read_stocks(
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
    async fn read_wholes(&self, ids: &[ProductId]) -> Result<Vec<Whole>, StoreError> {
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

/// Every field of `fields` as one `SET`, with `version` computed by DynamoDB.
fn set_all(fields: Item) -> (String, HashMap<String, String>, Item) {
    let mut names = HashMap::from([("#version".to_owned(), "version".to_owned())]);
    let mut values: Item = HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]);
    let mut sets = Vec::with_capacity(fields.len() + 1);
    for (i, (name, value)) in fields.into_iter().enumerate() {
        sets.push(format!("#f{i} = :f{i}"));
        names.insert(format!("#f{i}"), name);
        values.insert(format!(":f{i}"), value);
    }
    sets.push("#version = if_not_exists(#version, :zero) + :one".to_owned());
    (format!("SET {}", sets.join(", ")), names, values)
}

/// Why the one-item put did not happen.
enum Single {
    PreconditionFailed,
    /// The product's stock is split: the put must go through [`DynamoStore::put_spread`].
    Spread,
}

struct PutCall<'a> {
    id: &'a ProductId,
    draft: &'a ProductDraft,
    currency: &'a Currency,
}

impl PutCall<'_> {
    fn fields(
        &self,
        stock: i64,
        spread: u32,
        now: &str,
        etag: &EntityTag,
        layout: Option<&str>,
    ) -> Result<Item, StoreError> {
        to_item(&Fields {
            gsi1pk: LISTING_PARTITION,
            gsi1sk: self.id.as_str(),
            entity: ENTITY,
            id: self.id.as_str(),
            name: self.draft.name(),
            description: self.draft.description(),
            price: self.draft.price(),
            currency: self.currency.as_str(),
            stock,
            stock_buckets: spread,
            layout,
            updated_at: now,
            etag: etag.as_str(),
        })
    }
}

impl DynamoStore {
    /// The common case, one `UpdateItem`: a product whose stock is and stays in one item. The
    /// condition also requires the stock not to be split, so a put never strands buckets.
    async fn put_single(
        &self,
        call: &PutCall<'_>,
        precondition: &Precondition,
    ) -> Result<Result<Versioned<Product>, Single>, StoreError> {
        let etag = EntityTag::mint();
        let now = now_rfc3339();
        let fields = call.fields(call.draft.stock(), 1, &now, &etag, None)?;
        // Every field is SET from the serde-mapped item, and DynamoDB itself computes the next
        // version, so there is no read-modify-write window between two writers.
        let (update, mut names, mut values) = set_all(fields);
        names.insert("#spread".into(), "stock_buckets".into());
        let mut condition = "(attribute_not_exists(#spread) OR #spread = :one)".to_owned();
        if let Some((precondition, tags)) = condition_for(precondition, false) {
            condition = format!("{} AND {condition}", group(&precondition));
            for (placeholder, tag) in tags {
                values.insert(placeholder, AttributeValue::S(tag));
            }
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(call.id).item()?))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
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

    /// A put over a product and its buckets, in one transaction: read them all, check the
    /// precondition against the product's tag, then write the product, write every bucket of the
    /// new split and delete the buckets it no longer has, each on the condition that it is still
    /// as read. A checkout in between cancels it, and it starts again from the read.
    async fn put_spread(
        &self,
        call: &PutCall<'_>,
        precondition: &Precondition,
    ) -> Result<(PutOutcome, Versioned<Product>), StoreError> {
        let mut patience = Patience::new();
        loop {
            let current = self.read_whole(call.id).await?;
            if !precondition.holds(current.as_ref().map(Whole::etag).as_ref()) {
                return match current
                    .as_ref()
                    .and_then(|c| restock_over(precondition, c, call))
                {
                    Some((layout, added)) => self.restock(call, &layout, &added).await,
                    None => Err(StoreError::PreconditionFailed),
                };
            }
            let old_spread = current.as_ref().map_or(1, Whole::spread);
            let spread = call.draft.stock_buckets().unwrap_or(old_spread);
            let shares = stock::split(call.draft.stock(), spread);
            let now = now_rfc3339();
            let head_tag = EntityTag::mint();
            // A new identity for the split this write makes, on the product and every bucket.
            let layout = EntityTag::mint();
            let (update, mut names, mut values) =
                set_all(call.fields(shares[0], spread, &now, &head_tag, Some(layout.as_str()))?);
            let tagged = depends_on_tags(precondition);
            let head_condition = match &current {
                Some(whole) if tagged => {
                    names.insert("#etag".into(), "etag".into());
                    values.insert(":old".into(), s(whole.head.etag.clone()));
                    "#etag = :old"
                }
                Some(_) => {
                    names.insert("#spread".into(), "stock_buckets".into());
                    values.insert(":spread".into(), n(old_spread));
                    if old_spread == 1 {
                        "attribute_exists(PK) AND (attribute_not_exists(#spread) OR #spread = :spread)"
                    } else {
                        "#spread = :spread"
                    }
                }
                None => "attribute_not_exists(PK)",
            };
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(build(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(keys::product(call.id).item()?))
                            .update_expression(update)
                            .condition_expression(head_condition)
                            .set_expression_attribute_names(Some(names))
                            .set_expression_attribute_values(Some(values))
                            .build(),
                    )?)
                    .build(),
            ];
            let old = |b: usize| {
                current
                    .as_ref()
                    .and_then(|w| w.buckets.get(b - 1)?.as_ref())
            };
            let mut tags = Vec::new();
            for (b, &share) in shares.iter().enumerate().skip(1) {
                let key = keys::stock_bucket(call.id, b);
                let tag = EntityTag::mint();
                let bucket = Bucket {
                    pk: key.pk,
                    sk: key.sk,
                    entity: BUCKET_ENTITY.into(),
                    stock: share,
                    price: call.draft.price(),
                    version: old(b).map_or(1, |o| o.version + 1),
                    etag: tag.as_str().to_owned(),
                    updated_at: now.clone(),
                    layout: Some(layout.as_str().to_owned()),
                };
                let mut put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(&bucket)?));
                // With an `If-Match` tag, each bucket must be as read (the tag covers them all).
                // Otherwise only the product item's split is checked, and the buckets are
                // written whatever checkouts did to them since: the admin sets the stock.
                put = match old(b) {
                    Some(o) if tagged => put
                        .condition_expression("#etag = :old")
                        .expression_attribute_names("#etag", "etag")
                        .expression_attribute_values(":old", s(o.etag.clone())),
                    _ => put,
                };
                items.push(
                    TransactWriteItem::builder()
                        .put(build(put.build())?)
                        .build(),
                );
                tags.push(tag);
            }
            for b in spread as usize..old_spread as usize {
                let tag = old(b).filter(|_| tagged).map(|o| o.etag.as_str());
                items.push(delete_item(
                    &self.table,
                    keys::stock_bucket(call.id, b),
                    tag,
                )?);
            }
            if !self.admin_transact(items).await? {
                if patience.pause().await {
                    continue;
                }
                return Err(StoreError::Unavailable(
                    "the product kept changing while its stock buckets were written".into(),
                ));
            }
            let outcome = if current.is_some() {
                PutOutcome::Replaced
            } else {
                PutOutcome::Created
            };
            if !tagged {
                // Without a tag condition a checkout may have drawn from bucket 0 between the read
                // and the write, so the version DynamoDB computed is unknown here: answer with the
                // product as it now is.
                if let Some(now) = self.read_whole(call.id).await? {
                    return Ok((outcome, now.into_versioned()));
                }
            }
            let version = current.as_ref().map_or(0, |w| w.head.product.version) + 1;
            let etag = if spread > 1 {
                split_tag(
                    Some(layout.as_str()),
                    call.draft.stock(),
                    combined_tag(head_tag.as_str(), tags.iter().map(EntityTag::as_str)),
                )
            } else {
                head_tag
            };
            let product = Product {
                id: call.id.clone(),
                name: call.draft.name().to_owned(),
                description: call.draft.description().to_owned(),
                price: call.draft.price(),
                currency: call.currency.as_str().to_owned(),
                stock: call.draft.stock(),
                stock_buckets: spread,
                version,
                updated_at: now,
            };
            return Ok((
                outcome,
                Versioned {
                    value: product,
                    etag,
                },
            ));
        }
    }
}

/// A tagged put that no longer matches only because sales moved the stock on: the tag names the
/// split the product still has (no admin write since), the put keeps that split, and it raises
/// the stock. Then `(layout, what each bucket gets added)`.
fn restock_over(
    precondition: &Precondition,
    current: &Whole,
    call: &PutCall<'_>,
) -> Option<(String, Vec<i64>)> {
    let Precondition::MatchesAny(tags) = precondition else {
        return None;
    };
    let layout = current.head.layout.as_deref()?;
    let spread = current.spread();
    if spread < 2 || call.draft.stock_buckets().is_some_and(|k| k != spread) {
        return None;
    }
    tags.iter()
        .filter_map(read_in)
        .find(|(read, _)| *read == layout)
        .and_then(|(_, seen)| stock::restock(seen, call.draft.stock(), spread))
        .map(|added| (layout.to_owned(), added))
}

impl DynamoStore {
    /// A restock over a read that sales have since moved on from ([`restock_over`]): one
    /// transaction that sets the product's fields and adds each bucket its share, conditioned
    /// only on the split being the one the admin read. Sales in between change no condition, so
    /// it lands as soon as no transaction holds an item and the partitions have room; another
    /// admin write in between changes the layout, and the answer is 412. A new layout is stamped,
    /// so a reader in between never mixes the two.
    async fn restock(
        &self,
        call: &PutCall<'_>,
        layout: &str,
        added: &[i64],
    ) -> Result<(PutOutcome, Versioned<Product>), StoreError> {
        let mut patience = Patience::new();
        loop {
            let now = now_rfc3339();
            let fresh = EntityTag::mint();
            let mut items = Vec::with_capacity(added.len());
            for (b, &add) in added.iter().enumerate() {
                // The product item (bucket 0) also takes the admin's other fields.
                let others = if b == 0 {
                    ", #name = :name, #description = :description, #currency = :currency"
                } else {
                    ""
                };
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(keys::stock_holder(call.id, b).item()?))
                    .update_expression(format!(
                        "SET #stock = #stock + :add, #price = :price, #version = #version + :one, \
                         #etag = :etag, #updated = :now, #layout = :fresh{others}"
                    ))
                    .condition_expression("#layout = :read")
                    .expression_attribute_names("#stock", "stock")
                    .expression_attribute_names("#price", "price")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_names("#etag", "etag")
                    .expression_attribute_names("#updated", "updated_at")
                    .expression_attribute_names("#layout", "layout")
                    .expression_attribute_values(":add", n(add))
                    .expression_attribute_values(":price", n(call.draft.price()))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":etag", s(EntityTag::mint().as_str()))
                    .expression_attribute_values(":now", s(now.clone()))
                    .expression_attribute_values(":fresh", s(fresh.as_str()))
                    .expression_attribute_values(":read", s(layout));
                if b == 0 {
                    update = update
                        .expression_attribute_names("#name", "name")
                        .expression_attribute_names("#description", "description")
                        .expression_attribute_names("#currency", "currency")
                        .expression_attribute_values(":name", s(call.draft.name()))
                        .expression_attribute_values(":description", s(call.draft.description()))
                        .expression_attribute_values(":currency", s(call.currency.as_str()));
                }
                items.push(
                    TransactWriteItem::builder()
                        .update(build(update.build())?)
                        .build(),
                );
            }
            if self.admin_transact(items).await? {
                return match self.read_whole(call.id).await? {
                    Some(now) => Ok((PutOutcome::Replaced, now.into_versioned())),
                    None => Err(StoreError::NotFound),
                };
            }
            // Cancelled: an admin write changed the split (412), or a conflict or a throttled
            // partition (again, after a pause).
            let still = self
                .read_whole(call.id)
                .await?
                .is_some_and(|w| w.head.layout.as_deref() == Some(layout));
            if !still {
                return Err(StoreError::PreconditionFailed);
            }
            if !patience.pause().await {
                return Err(StoreError::Unavailable(
                    "the product's buckets stayed busy while the restock was written".into(),
                ));
            }
        }
    }
}

/// Whether a product item (as DynamoDB returned it) has its stock split into buckets.
fn split(item: &Item) -> bool {
    item.get("stock_buckets")
        .and_then(|v| v.as_n().ok())
        .is_some_and(|k| k != "1")
}

/// Whether the precondition compares entity tags (then every item must be as read), rather than
/// only asking whether the product exists.
fn depends_on_tags(precondition: &Precondition) -> bool {
    matches!(
        precondition,
        Precondition::MatchesAny(_) | Precondition::MatchesNone(_)
    )
}

/// A delete inside a transaction, conditioned on the item's tag when `etag` is given.
fn delete_item(table: &str, key: Key, etag: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let mut delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key.item()?));
    if let Some(etag) = etag {
        delete = delete
            .condition_expression("#etag = :old")
            .expression_attribute_names("#etag", "etag")
            .expression_attribute_values(":old", s(etag));
    }
    Ok(TransactWriteItem::builder()
        .delete(build(delete.build())?)
        .build())
}

impl DynamoStore {
    /// Sends an admin's transaction over a product and its buckets: `true` once committed, `false`
    /// when it failed only on its conditions (something changed since the read) or for a
    /// partition over its capacity (mid-sale, the buckets' writes take most of it): read again,
    /// after a pause. Sending the same transaction again would only meet the checkouts that
    /// changed the buckets meanwhile. The error otherwise.
    async fn admin_transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        let reasons = match self.transact_retrying(items, Throttled::Return).await? {
            Sent::Ok => return Ok(true),
            Sent::Cancelled(reasons) => reasons,
            Sent::InProgress => {
                return Err(StoreError::Unavailable(
                    "an earlier attempt of this product write is still running".into(),
                ));
            }
        };
        let codes: Vec<&str> = reasons.iter().map(code).collect();
        if codes.iter().all(|c| {
            matches!(*c, "None" | "ConditionalCheckFailed")
                || classify_cancellation(c) == Class::Retryable
        }) {
            Ok(false)
        } else {
            Err(StoreError::Internal(
                format!("product transaction cancelled: {codes:?}").into(),
            ))
        }
    }
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
}

impl DynamoStore {
    /// The product and its buckets deleted in one transaction, each on the condition that it is
    /// still as read (see [`DynamoStore::put_spread`]).
    async fn delete_spread(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> Result<(), StoreError> {
        let mut patience = Patience::new();
        loop {
            let Some(current) = self.read_whole(id).await? else {
                return Err(StoreError::NotFound);
            };
            if !precondition.holds(Some(&current.etag())) {
                return Err(StoreError::PreconditionFailed);
            }
            let tagged = depends_on_tags(precondition);
            let mut items = Vec::with_capacity(current.buckets.len() + 1);
            if tagged {
                items.push(delete_item(
                    &self.table,
                    keys::product(id),
                    Some(&current.head.etag),
                )?);
            } else {
                // Only the split is checked: the buckets deleted are the ones it names.
                items.push(
                    TransactWriteItem::builder()
                        .delete(build(
                            Delete::builder()
                                .table_name(&self.table)
                                .set_key(Some(keys::product(id).item()?))
                                .condition_expression("#spread = :spread")
                                .expression_attribute_names("#spread", "stock_buckets")
                                .expression_attribute_values(":spread", n(current.spread()))
                                .build(),
                        )?)
                        .build(),
                );
            }
            for (i, bucket) in current.buckets.iter().enumerate() {
                let tag = bucket.as_ref().filter(|_| tagged).map(|b| b.etag.as_str());
                items.push(delete_item(
                    &self.table,
                    keys::stock_bucket(id, i + 1),
                    tag,
                )?);
            }
            if self.admin_transact(items).await? {
                return Ok(());
            }
            if !patience.pause().await {
                return Err(StoreError::Unavailable(
                    "the product kept changing while it was being deleted".into(),
                ));
            }
        }
    }
}

impl DynamoStore {
    /// `DELETE /products/{id}`: one conditional delete (one transaction with its stock buckets). Returns [`StoreError::NotFound`] when nothing
    /// was there and [`StoreError::PreconditionFailed`] when the item exists but fails `precondition`.
    pub async fn delete_product(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> Result<(), StoreError> {
        // Always a condition: `require_item` adds `attribute_exists(PK)`, so a missing item fails
        // it. A product whose stock is split fails it too, and goes to the transaction.
        let (condition, tags) = condition_for(precondition, true).unwrap_or_default();
        let mut values: Item = tags
            .into_iter()
            .map(|(p, t)| (p, AttributeValue::S(t)))
            .collect();
        values.insert(":one".into(), n(1));
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::product(id).item()?))
            .condition_expression(format!(
                "{} AND (attribute_not_exists(#spread) OR #spread = :one)",
                group(&condition)
            ))
            .expression_attribute_names("#spread", "stock_buckets")
            .set_expression_attribute_values(Some(values))
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
        self.remember(ids, &found);
        Ok(found)
    }
}

impl DynamoStore {
    /// Keeps this instance's copy of the split products among `ids` as `fresh` shows them (read
    /// just now), and forgets the others.
    fn remember(&self, ids: &[ProductId], fresh: &HashMap<ProductId, Product>) {
        let now = Instant::now();
        let mut hot = self.hot.lock().unwrap_or_else(PoisonError::into_inner);
        if hot.len() >= HOT_MAX {
            hot.retain(|_, (at, _)| now.duration_since(*at) < HOT_FOR);
        }
        for id in ids {
            match fresh.get(id) {
                // Only a split product: it is the hot one, and every other keeps the read-your-
                // writes answers of a consistent read.
                Some(p) if p.stock_buckets > 1 && hot.len() < HOT_MAX => {
                    hot.insert(id.clone(), (now, p.clone()));
                }
                _ => {
                    hot.remove(id);
                }
            }
        }
    }
}

impl DynamoStore {
    /// Several products by id, for a shopper's cart and checkout: as [`DynamoStore::get_products`], except that a
    /// product whose stock is split into buckets (a hot product) may be answered from what this
    /// instance read of it in the last second. Its catalog fields and stock may be that old; the
    /// checkout transaction re-checks price and stock where they count, so nothing is sold on them.
    pub async fn shop_products(
        &self,
        ids: &[ProductId],
    ) -> Result<HashMap<ProductId, Product>, StoreError> {
        let now = Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut unknown = Vec::new();
        {
            let hot = self.hot.lock().unwrap_or_else(PoisonError::into_inner);
            for id in ids {
                match hot.get(id) {
                    Some((at, product)) if now.duration_since(*at) < HOT_FOR => {
                        found.insert(id.clone(), product.clone());
                    }
                    _ => unknown.push(id.clone()),
                }
            }
        }
        if unknown.is_empty() {
            return Ok(found);
        }
        found.extend(self.get_products(&unknown).await?);
        Ok(found)
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
            stock_buckets: p.stock_buckets,
            layout: None,
            updated_at: &p.updated_at,
            etag: product.etag.as_str(),
        })?;
        item.extend(keys::product(&p.id).item()?);
        item.insert("version".into(), AttributeValue::N(p.version.to_string()));
        Ok(StoredProduct(item))
    }

    /// Item → product, as every read does.
    pub fn decode(item: StoredProduct) -> Result<Versioned<Product>, StoreError> {
        Ok(Whole {
            head: from_item(item.0)?,
            buckets: Vec::new(),
        }
        .into_versioned())
    }

    impl Clone for StoredProduct {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }
}
