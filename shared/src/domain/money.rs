//! An amount of money, in minor units (cents) of the shop's one currency.

use super::{FieldError, Quantity};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in minor units (cents) of the shop's currency: never negative. Prices are at most
/// [`super::MAX_AMOUNT`] (checked where a client writes one), and an order of at most 50 lines of
/// at most 99 units each totals far below `i64::MAX`, so sums do not overflow. Shown and stored as
/// a plain JSON number.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

impl Money {
    pub const ZERO: Self = Self(0);

    /// `minor` units of the currency; refused when negative.
    pub fn from_minor(minor: i64) -> Result<Self, FieldError> {
        if minor >= 0 {
            Ok(Self(minor))
        } else {
            Err(FieldError::new("amount", "must not be negative"))
        }
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.0
    }

    /// `quantity` units at this price.
    pub fn times(self, quantity: Quantity) -> Self {
        Self(self.0.saturating_mul(i64::from(quantity.get())))
    }
}

impl TryFrom<i64> for Money {
    type Error = FieldError;
    fn try_from(minor: i64) -> Result<Self, FieldError> {
        Self::from_minor(minor)
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> Self {
        m.0
    }
}

/// An amount compares with a number of minor units (handy in tests and the checker).
impl PartialEq<i64> for Money {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self(iter.map(|m| m.0).fold(0i64, i64::saturating_add))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_a_plain_non_negative_number() {
        let m = Money::from_minor(900).expect("non-negative");
        assert_eq!(serde_json::to_value(m).expect("serializes"), 900);
        assert_eq!(serde_json::from_value::<Money>(900.into()).ok(), Some(m));
        assert!(serde_json::from_value::<Money>((-1).into()).is_err());
        assert!(Money::from_minor(-1).is_err());
        let q = Quantity::new(3).expect("quantity");
        assert_eq!(m.times(q).minor(), 2700);
        assert_eq!([m, m].into_iter().sum::<Money>().minor(), 1800);
    }
}
