//! Admin writes of a product whose stock is split into buckets (or is to be): each one
//! transaction over the product item and every bucket, checked against what was read of them
//! (`DynamoStore::put_spread`, `DynamoStore::delete_spread`), and the restock that lands mid-sale
//! over a read that sales have since moved on from (`DynamoStore::restock`).

use super::{
    BUCKET_ENTITY, Bucket, PutCall, Whole, combined_tag, delete_item, depends_on_tags, read_in,
    set_all, split_tag,
};
use crate::domain::{EntityTag, Precondition, Product, ProductId, Timestamp, Versioned, stock};
use crate::store::client::DynamoStore;
use crate::store::error::{Class, StoreError, classify_cancellation};
use crate::store::expr::{Expr, OnFailure, WithPlaceholders, build, n, s};
use crate::store::keys::{self, to_item};
use crate::store::ops::PutOutcome;
use crate::store::retry::Patience;
use crate::store::txn::{Sent, Throttled, code};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

/// What one attempt of a split put writes: the new split, its tags, and what it checks.
struct SplitWrite {
    spread: u32,
    old_spread: u32,
    shares: Vec<i64>,
    now: Timestamp,
    head_tag: EntityTag,
    /// A new identity for the split this write makes, on the product and every bucket.
    layout: EntityTag,
    /// Bucket `i`'s new tag at index `i - 1`.
    bucket_tags: Vec<EntityTag>,
    /// Whether the precondition compares tags: then every item must be as read.
    tagged: bool,
}

impl SplitWrite {
    fn new(call: &PutCall<'_>, current: Option<&Whole>, precondition: &Precondition) -> Self {
        let old_spread = current.map_or(1, Whole::spread);
        let spread = call.draft.stock_buckets().unwrap_or(old_spread);
        Self {
            spread,
            old_spread,
            shares: stock::split(call.draft.stock(), spread),
            now: Timestamp::now(),
            head_tag: EntityTag::mint(),
            layout: EntityTag::mint(),
            bucket_tags: (1..spread).map(|_| EntityTag::mint()).collect(),
            tagged: depends_on_tags(precondition),
        }
    }

    /// The transaction: the product item, every bucket of the new split, and a delete of each
    /// bucket it no longer has.
    fn items(
        &self,
        table: &str,
        call: &PutCall<'_>,
        current: Option<&Whole>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = vec![self.head(table, call, current)?];
        let old = |b: usize| current.and_then(|w| w.buckets.get(b - 1)?.as_ref());
        for (b, &share) in self.shares.iter().enumerate().skip(1) {
            let key = keys::stock_bucket(call.id, b);
            let bucket = Bucket {
                pk: key.pk,
                sk: key.sk,
                entity: BUCKET_ENTITY.into(),
                stock: share,
                price: call.draft.price(),
                version: old(b).map_or(1, |o| o.version + 1),
                etag: self.bucket_tags[b - 1].as_str().to_owned(),
                updated_at: self.now.to_string(),
                layout: Some(self.layout.as_str().to_owned()),
            };
            // With an `If-Match` tag, each bucket must be as read (the tag covers them all).
            // Otherwise only the product item's split is checked, and the buckets are written
            // whatever checkouts did to them since: the admin sets the stock.
            let mut e = Expr::new();
            let condition = match old(b) {
                Some(o) if self.tagged => Some(tag_is(&mut e, &o.etag)),
                _ => None,
            };
            let bound = e.done(&[condition.as_deref().unwrap_or("")])?;
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_item(&bucket)?))
                .set_condition_expression(condition)
                .placeholders(bound);
            items.push(
                TransactWriteItem::builder()
                    .put(build(put.build())?)
                    .build(),
            );
        }
        for b in self.spread as usize..self.old_spread as usize {
            let tag = old(b).filter(|_| self.tagged).map(|o| o.etag.as_str());
            items.push(delete_item(table, keys::stock_bucket(call.id, b), tag)?);
        }
        Ok(items)
    }

    /// The product item's update: on its tag as read (a tagged put), else on its split as read,
    /// or on its absence.
    fn head(
        &self,
        table: &str,
        call: &PutCall<'_>,
        current: Option<&Whole>,
    ) -> Result<TransactWriteItem, StoreError> {
        let fields = call.fields(
            self.shares[0],
            self.spread,
            self.now.as_str(),
            &self.head_tag,
            Some(self.layout.as_str()),
        )?;
        let mut e = Expr::new();
        let update = set_all(&mut e, fields);
        let condition = match current {
            Some(whole) if self.tagged => tag_is(&mut e, &whole.head.etag),
            Some(_) => {
                let spread = e.name("stock_buckets");
                let old = e.value("old_spread", n(self.old_spread));
                if self.old_spread == 1 {
                    format!(
                        "attribute_exists({}) AND (attribute_not_exists({spread}) OR {spread} = {old})",
                        e.name("PK")
                    )
                } else {
                    format!("{spread} = {old}")
                }
            }
            None => format!("attribute_not_exists({})", e.name("PK")),
        };
        e.transact_update(
            table,
            &keys::product(call.id),
            update,
            condition,
            OnFailure::Nothing,
        )
    }

    /// The product as this write left it, when that is known without a read (a tagged put).
    fn written(&self, call: &PutCall<'_>, current: Option<&Whole>) -> Versioned<Product> {
        let version = current.map_or(0, |w| w.head.product.version) + 1;
        let etag = if self.spread > 1 {
            split_tag(
                Some(self.layout.as_str()),
                call.draft.stock(),
                combined_tag(
                    self.head_tag.as_str(),
                    self.bucket_tags.iter().map(EntityTag::as_str),
                ),
            )
        } else {
            self.head_tag.clone()
        };
        let product = Product {
            id: call.id.clone(),
            name: call.draft.name().to_owned(),
            description: call.draft.description().to_owned(),
            price: call.draft.price(),
            currency: call.currency.clone(),
            stock: call.draft.stock(),
            stock_buckets: self.spread,
            version,
            updated_at: self.now.clone(),
        };
        Versioned {
            value: product,
            etag,
        }
    }
}

/// `#etag = :old`: the item's tag is still `etag`.
fn tag_is(e: &mut Expr, etag: &str) -> String {
    format!("{} = {}", e.name("etag"), e.value("old", s(etag)))
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

/// Bucket `bucket`'s share `add` of a restock over a read of the split `layout`, stamping the
/// split `fresh`; the product item (bucket 0) also takes the admin's other fields.
fn restock_item(
    table: &str,
    call: &PutCall<'_>,
    bucket: usize,
    add: i64,
    (layout, fresh, now): (&str, &EntityTag, &str),
) -> Result<TransactWriteItem, StoreError> {
    let mut e = Expr::new();
    let stock = e.name("stock");
    let version = e.name("version");
    let layout_name = e.name("layout");
    let mut update = format!(
        "SET {stock} = {stock} + {add}, {price} = {new_price}, {version} = {version} + {one}, \
         {etag} = {tag}, {updated} = {now}, {layout_name} = {fresh}",
        add = e.value("add", n(add)),
        price = e.name("price"),
        new_price = e.value("price", n(call.draft.price())),
        one = e.value("one", n(1)),
        etag = e.name("etag"),
        tag = e.value("etag", s(EntityTag::mint().as_str())),
        updated = e.name("updated_at"),
        now = e.value("now", s(now)),
        fresh = e.value("fresh", s(fresh.as_str())),
    );
    if bucket == 0 {
        for (field, value) in [
            ("name", call.draft.name()),
            ("description", call.draft.description()),
            ("currency", call.currency.as_str()),
        ] {
            update.push_str(&format!(
                ", {} = {}",
                e.name(field),
                e.value(field, s(value))
            ));
        }
    }
    let condition = format!("{layout_name} = {}", e.value("read", s(layout)));
    e.transact_update(
        table,
        &keys::stock_holder(call.id, bucket),
        update,
        condition,
        OnFailure::Nothing,
    )
}

impl DynamoStore {
    /// A put over a product and its buckets, in one transaction: read them all, check the
    /// precondition against the product's tag, then write the product, write every bucket of the
    /// new split and delete the buckets it no longer has, each on the condition that it is still
    /// as read. A checkout in between cancels it, and it starts again from the read.
    pub(super) async fn put_spread(
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
            let write = SplitWrite::new(call, current.as_ref(), precondition);
            let items = write.items(&self.table, call, current.as_ref())?;
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
            if !write.tagged {
                // Without a tag condition a checkout may have drawn from bucket 0 between the read
                // and the write, so the version DynamoDB computed is unknown here: answer with the
                // product as it now is.
                if let Some(now) = self.read_whole(call.id).await? {
                    return Ok((outcome, now.into_versioned()));
                }
            }
            return Ok((outcome, write.written(call, current.as_ref())));
        }
    }

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
            let now = Timestamp::now();
            let fresh = EntityTag::mint();
            let items = added
                .iter()
                .enumerate()
                .map(|(b, &add)| {
                    restock_item(&self.table, call, b, add, (layout, &fresh, now.as_str()))
                })
                .collect::<Result<Vec<_>, _>>()?;
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

    /// The product and its buckets deleted in one transaction, each on the condition that it is
    /// still as read (see [`DynamoStore::put_spread`]).
    pub(super) async fn delete_spread(
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
                let tag = Some(current.head.etag.as_str());
                items.push(delete_item(&self.table, keys::product(id), tag)?);
            } else {
                // Only the split is checked: the buckets deleted are the ones it names.
                let mut e = Expr::new();
                let condition = format!(
                    "{} = {}",
                    e.name("stock_buckets"),
                    e.value("spread", n(current.spread()))
                );
                let bound = e.done(&[&condition])?;
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(keys::product(id).item()?))
                    .condition_expression(condition)
                    .placeholders(bound);
                items.push(
                    TransactWriteItem::builder()
                        .delete(build(delete.build())?)
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
