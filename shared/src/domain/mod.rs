//! Domain types: the catalog's vocabulary, validated once at the edge.
//!
//! Every value that crosses into the system goes through a `parse` constructor, so code past the
//! handlers never sees an id with a slash in it or a negative price. Fields are private; the only way
//! to hold a [`ProductId`] or a [`ProductDraft`] is to have had it checked.
//!
//! This file holds what every resource shares: field errors, the limits, the user id. `product`
//! holds the catalog's types, `tag` entity tags and preconditions, `money` and `time` the amounts
//! and instants every entity carries; [`cart`] and [`order`] hold the shopping side,
//! [`checkout`], [`stock`], [`commit`] and [`cancel`] its rules.

pub mod cancel;
pub mod cart;
pub mod checkout;
pub mod commit;
mod money;
pub mod order;
mod product;
pub mod stock;
mod tag;
mod time;

pub use cart::{Cart, CartLineView, CartView, MAX_CART_LINES, MAX_QUANTITY, Quantity};
pub use checkout::{CheckoutPlan, LineReason, LineRejection, Rejection};
pub use money::Money;
pub use order::{
    CheckoutRequest, IdempotencyKey, IdempotencyRecord, Order, OrderId, OrderLine, OrderStatus,
};
pub use product::{Currency, Product, ProductDraft, ProductId, whole_number};
pub use stock::MAX_STOCK_BUCKETS;
pub use tag::{EntityTag, Precondition, Versioned};
pub use time::Timestamp;

use serde::Serialize;
use std::fmt;

/// Largest price or stock accepted, inclusive: large enough for any real catalog, small enough that
/// the sum of a 50-line order can never overflow an `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// Product names are 1 to this many characters (Unicode scalar values, not bytes).
pub const MAX_NAME_CHARS: usize = 200;
/// Descriptions are at most this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest user id (`sub`) accepted; it becomes part of DynamoDB keys.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Product ids are 1 to this many characters of `[A-Za-z0-9_-]`.
pub const MAX_ID_CHARS: usize = 64;

/// One rule broken by client input, naming the field (a JSON pointer-like name such as `price`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A user id: a verified token's `sub`, 1–255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// A token's `sub` as a user id; refused (named `sub`) when empty, longer than
    /// [`MAX_SUBJECT_CHARS`] or holding a control character.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.chars().count() <= MAX_SUBJECT_CHARS
            && !raw.chars().any(char::is_control);
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "sub",
                format!("must be 1 to {MAX_SUBJECT_CHARS} characters with no control characters"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Ids compare with the text they were parsed from (handy in tests and the checker).
macro_rules! eq_text {
    ($id:ty) => {
        impl PartialEq<str> for $id {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $id {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $id {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
        impl PartialEq<$id> for String {
            fn eq(&self, other: &$id) -> bool {
                self == &other.0
            }
        }
    };
}
pub(crate) use eq_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_bounded_and_printable() {
        assert!(UserId::parse("auth0|5f3c").is_ok());
        for bad in ["", "a\nb", &"u".repeat(256)] {
            let err = UserId::parse(bad).expect_err("refused");
            assert_eq!(err.field, "sub", "{bad:?}");
        }
    }
}
