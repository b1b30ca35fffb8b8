//! Checkout's business rules, with no I/O: a cart priced from the catalog as it is now, whether
//! each line can be placed, and the total the client agreed to.
//!
//! Three callers share these rules, so they cannot drift apart:
//! - `POST /orders` plans the order with [`plan`] before its one transaction;
//! - the cart view prices its lines with [`price`] (`CartView::price`);
//! - when DynamoDB cancels the transaction, [`super::commit`] classifies each failed line with
//!   [`check_line`] against the item as it was at that instant.

use super::{
    Cart, Currency, Money, Order, OrderId, OrderLine, OrderStatus, Product, ProductId, Quantity,
    Timestamp,
};
use std::collections::HashMap;

/// One cart line priced from the catalog as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Priced {
    /// The product exists: the line at its current price, and the stock it has now.
    Available { line: OrderLine, stock: i64 },
    /// The product was deleted since it was added to the cart.
    Missing {
        product_id: ProductId,
        quantity: Quantity,
    },
}

/// Why one order line cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineReason {
    /// The product was deleted.
    Missing,
    /// Less stock than the line asks for.
    Short { available: i64 },
    /// The price changed since the cart was priced.
    PriceChanged { price: Money },
}

/// A line that cannot be placed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRejection {
    pub product_id: ProductId,
    pub requested: Quantity,
    pub reason: LineReason,
}

/// Why a cart cannot be checked out as it stands. Nothing is written for any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing to order.
    EmptyCart,
    /// Some lines cannot be placed (every one is named, so the client hears of all at once).
    Lines(Vec<LineRejection>),
    /// The client said what total it expects to pay, and the cart now costs another.
    TotalChanged { total: Money, expected: Money },
}

impl Rejection {
    /// Whether every rejected line failed only on its price (nothing short or gone).
    pub fn only_prices_changed(lines: &[LineRejection]) -> bool {
        lines
            .iter()
            .all(|l| matches!(l.reason, LineReason::PriceChanged { .. }))
    }
}

/// A cart that can be ordered: its lines at current prices and their total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutPlan {
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub currency: Currency,
}

impl CheckoutPlan {
    /// The order this plan places, as `id`, at `created_at` (RFC 3339).
    pub fn order(&self, id: OrderId, created_at: Timestamp) -> Order {
        Order {
            id,
            items: self.lines.clone(),
            total: self.total,
            currency: self.currency.clone(),
            status: OrderStatus::Placed,
            created_at,
            cancelled_at: None,
        }
    }
}

/// `quantity` of a product at `unit_price` (minor units). Cannot overflow: prices are at most
/// `MAX_AMOUNT` (10^9) and quantities at most 99.
pub fn line_total(unit_price: Money, quantity: Quantity) -> Money {
    unit_price.times(quantity)
}

/// Every line of `cart`, in product id order, priced from `products` (the ones that still exist).
pub fn price(cart: &Cart, products: &HashMap<ProductId, Product>) -> Vec<Priced> {
    cart.lines
        .iter()
        .map(|(id, &quantity)| match products.get(id) {
            Some(p) => Priced::Available {
                line: OrderLine {
                    product_id: id.clone(),
                    name: p.name.clone(),
                    quantity,
                    unit_price: p.price,
                    line_total: line_total(p.price, quantity),
                },
                stock: p.stock,
            },
            None => Priced::Missing {
                product_id: id.clone(),
                quantity,
            },
        })
        .collect()
}

/// What a line is checked against: the price and stock of the item its stock comes from (the
/// product, or one of its buckets), as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub price: Money,
    pub stock: i64,
}

impl From<&Product> for Held {
    fn from(p: &Product) -> Self {
        Self {
            price: p.price,
            stock: p.stock,
        }
    }
}

/// Why `line` cannot be placed against the item holding its stock as it is (`None`: deleted), or
/// `None` when it can: the item exists, still has the line's price and enough stock.
pub fn check_line(line: &OrderLine, current: Option<Held>) -> Option<LineReason> {
    match current {
        None => Some(LineReason::Missing),
        Some(p) if p.stock < i64::from(line.quantity.get()) => {
            Some(LineReason::Short { available: p.stock })
        }
        Some(p) if p.price != line.unit_price => Some(LineReason::PriceChanged { price: p.price }),
        Some(_) => None,
    }
}

/// Plans the order of `cart` at the prices of `products` (as read now), in `currency`: every line
/// must be available in the quantity asked, and the total must be `expected_total` when the client
/// gave one. The transaction then re-checks price and stock where it counts.
pub fn plan(
    cart: &Cart,
    products: &HashMap<ProductId, Product>,
    currency: &Currency,
    expected_total: Option<Money>,
) -> Result<CheckoutPlan, Rejection> {
    if cart.lines.is_empty() {
        return Err(Rejection::EmptyCart);
    }
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut rejected = Vec::new();
    for priced in price(cart, products) {
        match priced {
            Priced::Missing {
                product_id,
                quantity,
            } => rejected.push(LineRejection {
                product_id,
                requested: quantity,
                reason: LineReason::Missing,
            }),
            Priced::Available { line, stock } => {
                if stock < i64::from(line.quantity.get()) {
                    rejected.push(LineRejection {
                        product_id: line.product_id,
                        requested: line.quantity,
                        reason: LineReason::Short { available: stock },
                    });
                } else {
                    lines.push(line);
                }
            }
        }
    }
    if !rejected.is_empty() {
        return Err(Rejection::Lines(rejected));
    }
    let total = lines.iter().map(|l| l.line_total).sum();
    if let Some(expected) = expected_total
        && expected != total
    {
        return Err(Rejection::TotalChanged { total, expected });
    }
    Ok(CheckoutPlan {
        lines,
        total,
        currency: currency.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ProductId {
        ProductId::parse(s).expect("valid id")
    }

    fn q(n: u32) -> Quantity {
        Quantity::new(n).expect("valid quantity")
    }

    fn m(minor: i64) -> Money {
        Money::from_minor(minor).expect("non-negative")
    }

    fn product(s: &str, price: i64, stock: i64) -> (ProductId, Product) {
        (
            id(s),
            Product {
                id: id(s),
                name: s.to_uppercase(),
                description: String::new(),
                price: m(price),
                currency: Currency::default(),
                stock,
                stock_buckets: 1,
                version: 1,
                updated_at: Timestamp::now(),
            },
        )
    }

    fn cart(lines: &[(&str, u32)]) -> Cart {
        Cart {
            lines: lines.iter().map(|(s, n)| (id(s), q(*n))).collect(),
            version: 3,
        }
    }

    #[test]
    fn a_cart_in_stock_is_planned_at_current_prices_in_id_order() {
        let products = HashMap::from([product("b", 250, 5), product("a", 100, 1)]);
        let plan = plan(
            &cart(&[("b", 2), ("a", 1)]),
            &products,
            &Currency::default(),
            None,
        )
        .expect("plannable");
        assert_eq!(plan.total, 600);
        let ids: Vec<&str> = plan.lines.iter().map(|l| l.product_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(plan.lines[1].line_total, 500);
        let order = plan.order(OrderId::new(), Timestamp::now());
        assert_eq!((order.total, order.status), (m(600), OrderStatus::Placed));
        assert_eq!(order.currency, "EUR");
    }

    #[test]
    fn every_short_or_missing_line_is_named_at_once() {
        let products = HashMap::from([product("a", 100, 1), product("b", 100, 9)]);
        let err = plan(
            &cart(&[("a", 2), ("b", 1), ("gone", 3)]),
            &products,
            &Currency::default(),
            None,
        )
        .expect_err("short and missing");
        assert_eq!(
            err,
            Rejection::Lines(vec![
                LineRejection {
                    product_id: id("a"),
                    requested: q(2),
                    reason: LineReason::Short { available: 1 },
                },
                LineRejection {
                    product_id: id("gone"),
                    requested: q(3),
                    reason: LineReason::Missing,
                },
            ])
        );
    }

    #[test]
    fn an_empty_cart_and_a_changed_total_are_refused() {
        let products = HashMap::from([product("a", 100, 10)]);
        assert_eq!(
            plan(&cart(&[]), &products, &Currency::default(), None),
            Err(Rejection::EmptyCart)
        );
        assert_eq!(
            plan(
                &cart(&[("a", 3)]),
                &products,
                &Currency::default(),
                Some(m(200))
            ),
            Err(Rejection::TotalChanged {
                total: m(300),
                expected: m(200)
            })
        );
        assert!(
            plan(
                &cart(&[("a", 3)]),
                &products,
                &Currency::default(),
                Some(m(300))
            )
            .is_ok()
        );
    }

    #[test]
    fn a_line_is_checked_against_the_product_as_it_is() {
        let (_, p) = product("a", 100, 4);
        let line = OrderLine {
            product_id: id("a"),
            name: "A".into(),
            quantity: q(4),
            unit_price: m(100),
            line_total: m(400),
        };
        assert_eq!(check_line(&line, Some((&p).into())), None);
        assert_eq!(check_line(&line, None), Some(LineReason::Missing));
        let short = Product {
            stock: 3,
            stock_buckets: 1,
            ..p.clone()
        };
        assert_eq!(
            check_line(&line, Some((&short).into())),
            Some(LineReason::Short { available: 3 })
        );
        let dearer = Product { price: m(120), ..p };
        assert_eq!(
            check_line(&line, Some((&dearer).into())),
            Some(LineReason::PriceChanged { price: m(120) })
        );
        assert!(Rejection::only_prices_changed(&[LineRejection {
            product_id: id("a"),
            requested: q(4),
            reason: LineReason::PriceChanged { price: m(120) },
        }]));
    }
}
