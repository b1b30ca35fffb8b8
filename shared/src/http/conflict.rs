//! The 409 answers, each kind with exactly the members its problem document adds (RFC 9457
//! §3.2), typed: a handler names what conflicted, and the document's shape follows from the kind.

use super::kind::ProblemKind;
use crate::domain::{LineReason, LineRejection, Money, ProductId, Rejection};
use serde::Serialize;

/// Why a valid request conflicts with the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Some lines are short of stock or no longer sold (any line whose price changed is named
    /// too). Nothing was ordered.
    InsufficientStock { products: Vec<LineProblem> },
    /// Only prices changed while the order was being placed. Nothing was ordered.
    PriceChanged { products: Vec<LineProblem> },
    /// `expected_total` no longer matches the cart.
    TotalChanged { total: Money, expected: Money },
    /// The user already holds the most placed orders allowed.
    TooManyOpenOrders { max_open_orders: u32 },
    /// DynamoDB still runs an earlier attempt of this checkout, or the cart kept changing.
    CheckoutInProgress,
    /// The order kept changing under concurrent requests, or an earlier cancel still runs.
    OrderChanging,
}

/// One line of an order that cannot be placed, as the 409 names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum LineProblem {
    /// The product was deleted.
    Unavailable {
        product_id: ProductId,
        requested: u32,
        available: i64,
    },
    /// Less stock than asked for.
    InsufficientStock {
        product_id: ProductId,
        requested: u32,
        available: i64,
    },
    /// The price changed since the cart was priced.
    PriceChanged { product_id: ProductId, price: Money },
}

impl From<&LineRejection> for LineProblem {
    fn from(r: &LineRejection) -> Self {
        let (product_id, requested) = (r.product_id.clone(), r.requested.get());
        match r.reason {
            LineReason::Missing => Self::Unavailable {
                product_id,
                requested,
                available: 0,
            },
            LineReason::Short { available } => Self::InsufficientStock {
                product_id,
                requested,
                available,
            },
            LineReason::PriceChanged { price } => Self::PriceChanged { product_id, price },
        }
    }
}

#[derive(Serialize)]
struct Products<'a> {
    products: &'a [LineProblem],
}

#[derive(Serialize)]
struct Total {
    total: Money,
}

#[derive(Serialize)]
struct Cap {
    max_open_orders: u32,
}

impl Conflict {
    /// The 409 for lines that cannot be placed: `PriceChanged` when only prices changed.
    pub fn lines(lines: &[LineRejection]) -> Self {
        let products = lines.iter().map(LineProblem::from).collect();
        if Rejection::only_prices_changed(lines) {
            Self::PriceChanged { products }
        } else {
            Self::InsufficientStock { products }
        }
    }

    pub fn kind(&self) -> ProblemKind {
        match self {
            Self::InsufficientStock { .. } => ProblemKind::InsufficientStock,
            Self::PriceChanged { .. } => ProblemKind::PriceChanged,
            Self::TotalChanged { .. } => ProblemKind::TotalChanged,
            Self::TooManyOpenOrders { .. } => ProblemKind::TooManyOpenOrders,
            Self::CheckoutInProgress | Self::OrderChanging => ProblemKind::RequestInProgress,
        }
    }

    /// What the client is told, in a sentence.
    pub fn detail(&self) -> String {
        match self {
            Self::InsufficientStock { .. } => {
                "some products are short of stock or no longer sold; nothing was ordered".into()
            }
            Self::PriceChanged { .. } => {
                "prices changed while the order was being placed; look at the cart again".into()
            }
            Self::TotalChanged { total, expected } => format!(
                "the cart now totals {total}, not {expected}: prices changed since you looked"
            ),
            Self::TooManyOpenOrders { max_open_orders } => format!(
                "you already hold {max_open_orders} placed orders, the most allowed: cancel one to place another"
            ),
            Self::CheckoutInProgress => "a request with this Idempotency-Key is still being processed; retry after Retry-After seconds".into(),
            Self::OrderChanging => {
                "the order is changing under concurrent requests; retry after Retry-After seconds"
                    .into()
            }
        }
    }

    /// Seconds to wait before a retry, when one will do.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::CheckoutInProgress | Self::OrderChanging => Some(1),
            _ => None,
        }
    }

    /// The members this kind adds to the problem document.
    pub fn members(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        let members = match self {
            Self::InsufficientStock { products } | Self::PriceChanged { products } => {
                serde_json::to_value(Products { products })
            }
            Self::TotalChanged { total, .. } => serde_json::to_value(Total { total: *total }),
            Self::TooManyOpenOrders { max_open_orders } => serde_json::to_value(Cap {
                max_open_orders: *max_open_orders,
            }),
            Self::CheckoutInProgress | Self::OrderChanging => return None,
        };
        match members {
            Ok(serde_json::Value::Object(map)) => Some(map),
            // Plain structs of ids and numbers always serialize to an object.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Quantity;
    use serde_json::json;

    fn rejection(id: &str, reason: LineReason) -> LineRejection {
        LineRejection {
            product_id: ProductId::parse(id).expect("id"),
            requested: Quantity::new(2).expect("quantity"),
            reason,
        }
    }

    #[test]
    fn each_kind_adds_its_own_members() {
        let price = Money::from_minor(120).expect("price");
        let lines = Conflict::lines(&[
            rejection("a", LineReason::Missing),
            rejection("b", LineReason::Short { available: 1 }),
            rejection("c", LineReason::PriceChanged { price }),
        ]);
        assert_eq!(lines.kind(), ProblemKind::InsufficientStock);
        assert_eq!(
            serde_json::Value::Object(lines.members().expect("products")),
            json!({"products": [
                {"problem": "unavailable", "product_id": "a", "requested": 2, "available": 0},
                {"problem": "insufficient-stock", "product_id": "b", "requested": 2, "available": 1},
                {"problem": "price-changed", "product_id": "c", "price": 120},
            ]})
        );
        let prices = Conflict::lines(&[rejection("c", LineReason::PriceChanged { price })]);
        assert_eq!(prices.kind(), ProblemKind::PriceChanged);
        let cap = Conflict::TooManyOpenOrders {
            max_open_orders: 10,
        };
        assert_eq!(
            serde_json::Value::Object(cap.members().expect("cap")),
            json!({"max_open_orders": 10})
        );
        let total = Conflict::TotalChanged {
            total: price,
            expected: Money::ZERO,
        };
        assert_eq!(
            serde_json::Value::Object(total.members().expect("total")),
            json!({"total": 120})
        );
        assert_eq!(Conflict::CheckoutInProgress.members(), None);
        assert_eq!(Conflict::OrderChanging.retry_after(), Some(1));
        assert_eq!(cap.retry_after(), None);
    }
}
