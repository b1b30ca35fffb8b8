//! DynamoDB access: the only module that knows DynamoDB exists.
//!
//! Handlers call [`DynamoStore`]'s methods, one per operation (`get_product`, `put_product`,
//! `commit_checkout`, `cancel_order`, …). SDK types never cross this module's boundary: callers
//! see domain types, the outcomes in `ops` and [`StoreError`]. The business rules are not here:
//! `domain::commit` and `domain::cancel` plan each transaction and decide what its answer means;
//! the store turns each planned action into a write and each cancellation reason into an answer.
//!
//! # Why no store traits
//! There were thirteen one-method traits, one per operation, each with one implementation. They
//! promised two things and kept neither: fakes (every test runs the real engine, dynoxide, behind
//! the same SDK client, so no fake exists) and a record of each function's DynamoDB calls for its
//! IAM policy (the bound named traits, not actions, and the IAM test had to list the calls
//! anyway). So there is one concrete store; the calls each function makes are listed once, in
//! `local/tests/routes.rs` (`CALLS`), and checked against its policy in `template.yaml`.
//!
//! # Layout
//! - [`schema`]: the single-table key design and the table definition (the same as `template.yaml`).
//! - `ops`: what operations take and return beyond domain types (pages, commits, outcomes).
//! - `error`: [`StoreError`], and the class of every DynamoDB error code ([`ERROR_CODES`]).
//! - `client`: [`DynamoStore`]: the SDK client, its TLS trust, timeouts, and the connection init
//!   opens ahead of the first call.
//! - `https`: the HTTPS client under the SDK: one TLS context per process, roots decoded once.
//! - `keys`: the item alias and the key of every item type, in one place.
//! - `expr`: the one expression builder (`Expr`: placeholders declared where used, checked when
//!   done), preconditions on entity tags, attribute values.
//! - `batch`: consistent BatchGetItem with unprocessed keys retried.
//! - `page`: one page of a query, and whether more follow.
//! - [`retry`]: conflicts and cancellations retried with jittered backoff within the
//!   invocation's budget ([`retry::within`]).
//! - `txn`: sending a transaction, retried on conflicts and throttling; its cancellation reasons
//!   as answers beside the planned actions.
//! - `hot`: this instance's one-second copy of hot (split) products.
//! - `products/`: the product and bucket items (`mod.rs`), reads (`reads`), single-item admin
//!   writes (`single`) and split-product admin writes (`split`).
//! - `carts`: the cart item and its writes.
//! - `orders`: order and idempotency-record items, and their reads.
//! - `checkout`, `cancel`: the two order transactions, from their plans.

mod batch;
mod cancel;
mod carts;
mod checkout;
mod client;
mod error;
mod expr;
mod hot;
mod https;
mod keys;
mod ops;
mod orders;
mod page;
mod products;
pub mod retry;
pub mod schema;
mod txn;

pub use client::{CA_BUNDLE, DynamoStore};
pub use error::{CANCELLATION_CODES, Class, ERROR_CODES, StoreError, classify};
pub use ops::*;
pub use orders::IDEMPOTENCY_TTL_SECS;

#[cfg(feature = "testing")]
#[doc(hidden)]
pub use products::bench_support;
