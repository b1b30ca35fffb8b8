//! Product items, their stock buckets, and the catalog operations (see [`super::schema`] for the
//! key layout).
//!
//! A product's stock is in its item, or, when an admin splits it over K buckets
//! (`stock_buckets`), in its item (bucket 0) and K-1 bucket items, each its own partition key
//! (`PRODUCT#<id>#<i>`), so that checkouts of one hot product spread their writes. Every read
//! sums the buckets and tags the product with a digest of every item's tag; every admin write
//! touches them all in one transaction (`domain::stock` holds the rules).

mod reads;
mod single;
mod split;

use super::error::StoreError;
use super::expr::{Expr, WithPlaceholders, build, n};
use super::keys::{Item, Key, LISTING_PARTITION, to_item};
use crate::domain::{
    Currency, EntityTag, MAX_STOCK_BUCKETS, Money, Precondition, Product, ProductDraft, ProductId,
    Versioned,
};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};

const ENTITY: &str = "product";
const BUCKET_ENTITY: &str = "stock-bucket";
/// Reads of a product that may meet a new split landing between its two reads: a re-split is
/// a rare admin write, so a mix seen three times in a row, a pause apart, is not one landing.
const SPLIT_READS: usize = 3;

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
    price: Money,
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
    price: Money,
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

/// Every field of `fields` as one `SET` on `e`, with `version` computed by DynamoDB.
fn set_all(e: &mut Expr, fields: Item) -> String {
    let mut sets: Vec<String> = fields
        .into_iter()
        .map(|(name, value)| format!("{} = {}", e.name(&name), e.value(&name, value)))
        .collect();
    let version = e.name("version");
    sets.push(format!(
        "{version} = if_not_exists({version}, {}) + {}",
        e.value("zero", n(0)),
        e.value("one", n(1))
    ));
    format!("SET {}", sets.join(", "))
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
    let mut e = Expr::new();
    let condition = etag.map(|etag| {
        format!(
            "{} = {}",
            e.name("etag"),
            e.value("old", super::expr::s(etag))
        )
    });
    let bound = e.done(&[condition.as_deref().unwrap_or("")])?;
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key.item()?))
        .set_condition_expression(condition)
        .placeholders(bound);
    Ok(TransactWriteItem::builder()
        .delete(build(delete.build())?)
        .build())
}

/// The product mapping, for the criterion benchmarks only (feature `testing`) (`cargo bench -p shared --bench
/// mapping`): the item stays opaque, so DynamoDB types still do not leave the store.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod bench_support {
    use super::*;
    use crate::store::keys;
    use aws_sdk_dynamodb::types::AttributeValue;

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
            currency: p.currency.as_str(),
            stock: p.stock,
            stock_buckets: p.stock_buckets,
            layout: None,
            updated_at: p.updated_at.as_str(),
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
