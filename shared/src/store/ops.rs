//! One narrow trait per operation, so each function depends on exactly what it calls and its IAM
//! policy in `template.yaml` grants exactly those actions; and the outcomes they return. Only
//! domain types cross this boundary.

use super::error::StoreError;
use crate::domain::{
    Cart, Currency, IdempotencyKey, IdempotencyRecord, LineRejection, Order, OrderId, Precondition,
    Product, ProductDraft, ProductId, Quantity, UserId, Versioned,
};
use std::collections::HashMap;
use std::future::Future;

/// `GET /products/{id}`: one consistent read (and one of its stock buckets, if split).
pub trait GetProduct {
    fn get_product(
        &self,
        id: &ProductId,
    ) -> impl Future<Output = Result<Option<Versioned<Product>>, StoreError>> + Send;
}

/// One page of the catalog; `next` is the id to continue after, when more may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    pub items: Vec<Versioned<Product>>,
    pub next: Option<ProductId>,
}

/// `GET /products`: one query per page, in id order.
pub trait ListProducts {
    /// Up to `limit` products with ids after `after` (exclusive), in ascending id order.
    fn list_products(
        &self,
        after: Option<&ProductId>,
        limit: usize,
    ) -> impl Future<Output = Result<ProductPage, StoreError>> + Send;
}

/// Whether a put created the product or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Replaced,
}

/// `PUT /products/{id}`: one conditional update; a transaction over the product and its stock
/// buckets when its stock is, or is to be, split.
pub trait PutProduct {
    fn put_product(
        &self,
        id: &ProductId,
        draft: &ProductDraft,
        currency: &Currency,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(PutOutcome, Versioned<Product>), StoreError>> + Send;
}

/// `DELETE /products/{id}`: one conditional delete (one transaction with its stock buckets). Returns [`StoreError::NotFound`] when nothing
/// was there and [`StoreError::PreconditionFailed`] when the item exists but fails `precondition`.
pub trait DeleteProduct {
    fn delete_product(
        &self,
        id: &ProductId,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Several products by id, as they are now (one consistent BatchGetItem of at most 100 ids).
/// Ids that match no product are absent from the map.
pub trait GetProducts {
    fn get_products(
        &self,
        ids: &[ProductId],
    ) -> impl Future<Output = Result<HashMap<ProductId, Product>, StoreError>> + Send;
}

/// Several products by id, for a shopper's cart and checkout: as [`GetProducts`], except that a
/// product whose stock is split into buckets (a hot product) may be answered from what this
/// instance read of it in the last second. Its catalog fields and stock may be that old; the
/// checkout transaction re-checks price and stock where they count, so nothing is sold on them.
pub trait ShopProducts {
    fn shop_products(
        &self,
        ids: &[ProductId],
    ) -> impl Future<Output = Result<HashMap<ProductId, Product>, StoreError>> + Send;
}

/// `GET /cart` and friends: the caller's cart (empty when there is none).
pub trait GetCart {
    fn get_cart(&self, user: &UserId) -> impl Future<Output = Result<Cart, StoreError>> + Send;
}

/// The result of setting a cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartChange {
    Updated(Cart),
    /// The cart already holds [`crate::domain::MAX_CART_LINES`] other products.
    Full,
}

/// `PUT /cart/items/{product_id}`: one UpdateItem (a PutItem for a first line).
pub trait SetCartLine {
    fn set_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
        quantity: Quantity,
    ) -> impl Future<Output = Result<CartChange, StoreError>> + Send;
}

/// `DELETE /cart/items/{product_id}`: one UpdateItem; removing a line that is not there succeeds.
pub trait RemoveCartLine {
    fn remove_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything checkout writes, in one transaction.
#[derive(Debug)]
pub struct CheckoutCommit<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    /// The cart version that was priced; the cart is emptied only if it is still this version.
    pub cart_version: u64,
    /// Each line's product loses `quantity` stock, only if its price is still `unit_price`.
    pub order: &'a Order,
    /// How many buckets each line's product splits its stock over, as planned (absent: 1). The
    /// store draws each line from a bucket picked at random, and finds the layout again if an
    /// admin changed it since.
    pub buckets: &'a HashMap<ProductId, u32>,
    /// [`crate::domain::CheckoutRequest::fingerprint`], stored with the key and the order id, so a
    /// retry of the same request gets this order again.
    pub fingerprint: &'a str,
    /// The most placed (not cancelled) orders the user may hold once this one is placed.
    pub max_open_orders: u32,
}

/// What became of a checkout transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Stock taken, order written, cart emptied, key recorded: all or nothing, and this was all.
    Committed,
    /// Nothing changed: these lines cannot be placed as priced.
    LinesRejected(Vec<LineRejection>),
    /// Nothing changed: the cart changed after it was read.
    CartChanged,
    /// Nothing changed: the key already has a record (a duplicate won); read it and replay.
    KeyTaken,
    /// Nothing changed: the user already holds the most open orders allowed.
    TooManyOpenOrders,
    /// Not known yet: an earlier attempt of this very send is still running in DynamoDB (the
    /// SDK retried after an attempt timeout) and may still commit. A retry with the same key
    /// replays its outcome.
    InProgress,
}

/// `POST /orders`: the cart and the key's record in one read, then one transaction.
pub trait Checkout {
    fn checkout_state(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<(Cart, Option<IdempotencyRecord>), StoreError>> + Send;
    fn commit_checkout(
        &self,
        commit: &CheckoutCommit<'_>,
    ) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
}

/// One page of a user's orders, newest first; `next` is the id to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next: Option<OrderId>,
}

/// `GET /orders`: one Query of the caller's partition, newest first.
pub trait ListOrders {
    fn list_orders(
        &self,
        user: &UserId,
        after: Option<&OrderId>,
        limit: usize,
    ) -> impl Future<Output = Result<OrderPage, StoreError>> + Send;
}

/// `GET /orders/{id}`: one GetItem in the caller's partition (someone else's order is not there).
pub trait GetOrder {
    fn get_order(
        &self,
        user: &UserId,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled now, and the stock given back, in one transaction.
    Cancelled(Order),
    /// The order was no longer `placed` (cancelled by a concurrent request): nothing changed.
    NotPlaced,
    /// Not known yet: an earlier attempt of this very send is still running in DynamoDB and may
    /// still commit. Cancelling again is safe (the order's status is the condition).
    InProgress,
}

/// `POST /orders/{id}/cancel`: one transaction (status and stock).
pub trait CancelOrder {
    fn cancel_order(
        &self,
        user: &UserId,
        order: &Order,
    ) -> impl Future<Output = Result<CancelOutcome, StoreError>> + Send;
}
