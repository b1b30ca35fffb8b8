//! What the store's operations take and return beyond domain types: pages, commits and outcomes.
//! Only domain types cross this boundary.

use crate::domain::{
    Cart, IdempotencyKey, LineRejection, Order, OrderId, Product, ProductId, UserId, Versioned,
};
use std::collections::HashMap;

/// One page of the catalog; `next` is the id to continue after, when more may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    pub items: Vec<Versioned<Product>>,
    pub next: Option<ProductId>,
}

/// Whether a put created the product or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Replaced,
}

/// The result of setting a cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartChange {
    Updated(Cart),
    /// The cart already holds [`crate::domain::MAX_CART_LINES`] other products.
    Full,
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

/// One page of a user's orders, newest first; `next` is the id to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next: Option<OrderId>,
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
