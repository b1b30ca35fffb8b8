//! DynamoDB access: the only module that knows DynamoDB exists.
//!
//! Handlers talk to narrow traits, one per operation ([`GetProduct`], [`ListProducts`],
//! [`PutProduct`], [`DeleteProduct`], [`GetCart`], [`Checkout`], …), so each function depends on
//! exactly what it calls, and its IAM policy in `template.yaml` can grant exactly those actions.
//! [`DynamoStore`] implements them all. SDK types never cross this module's boundary: callers see
//! domain types and [`StoreError`]. The business rules are not here: the store asks
//! `domain::checkout` what a failed condition means.
//!
//! # Layout
//! - [`schema`]: the single-table key design and the table definition (the same as `template.yaml`).
//! - `ops`: the traits, one per operation, and the outcomes they return.
//! - `error`: [`StoreError`], and the class of every DynamoDB error code ([`ERROR_CODES`]).
//! - `client`: [`DynamoStore`]: the SDK client, its TLS trust, timeouts and warm-up call.
//! - `keys`: the item alias and the key of every item type, in one place.
//! - `expr`: condition expressions (preconditions on entity tags) and attribute values.
//! - `batch`: consistent BatchGetItem with unprocessed keys retried.
//! - `page`: one page of a query, and whether more follow.
//! - [`retry`]: conflicts and cancellations retried with jittered backoff within the
//!   invocation's budget ([`retry::within`]).
//! - `txn`: sending a transaction, retried on conflicts and throttling.
//! - `products`, `carts`, `orders`: each item type's mapping and its operations.

mod batch;
mod cancel;
mod carts;
mod checkout;
mod client;
mod error;
mod expr;
mod keys;
mod ops;
mod orders;
mod page;
mod products;
pub mod retry;
pub mod schema;
mod txn;

pub use client::{CA_BUNDLE, DynamoStore, read_ca_bundle};
pub use error::{CANCELLATION_CODES, Class, ERROR_CODES, StoreError, classify};
pub use ops::*;
pub use orders::IDEMPOTENCY_TTL_SECS;

#[cfg(feature = "testing")]
#[doc(hidden)]
pub use products::bench_support;
