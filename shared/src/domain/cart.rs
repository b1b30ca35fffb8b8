//! The cart: the classic piece of session state, kept in DynamoDB under the caller's `sub` so any
//! instance can serve any request.

use super::checkout::{self, Priced};
use super::{Currency, FieldError, Money, Product, ProductId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITY: u32 = 99;
/// Most distinct products in one cart. Checkout writes one stock update per line plus the order,
/// the cart update, the idempotency record and the open-order counter in a single DynamoDB
/// transaction (at most 100 actions), so a full cart takes 54: it always checks out in one
/// transaction, with room to spare.
pub const MAX_CART_LINES: usize = 50;

/// A validated quantity, from `{"quantity": 1..=99}` (and read back from the table the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32")]
pub struct Quantity(u32);

impl TryFrom<u32> for Quantity {
    type Error = FieldError;
    fn try_from(n: u32) -> Result<Self, FieldError> {
        Self::new(n).ok_or_else(|| {
            FieldError::new(
                "quantity",
                format!("must be an integer from 1 to {MAX_QUANTITY}"),
            )
        })
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

impl From<Quantity> for i64 {
    fn from(q: Quantity) -> i64 {
        i64::from(q.0)
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Quantity {
    /// `n` if it is from 1 to [`MAX_QUANTITY`].
    pub fn new(n: u32) -> Option<Self> {
        (1..=MAX_QUANTITY).contains(&n).then_some(Self(n))
    }

    /// Parses the body of `PUT /cart/items/{product_id}`: exactly `{"quantity": n}`.
    pub fn parse_body(body: &serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new("", "the body must be a JSON object")]);
        };
        let mut errors: Vec<FieldError> = obj
            .keys()
            .filter(|k| k.as_str() != "quantity")
            .map(|k| FieldError::new(k.as_str(), "is not a cart line field"))
            .collect();
        let quantity = match obj.get("quantity") {
            None => {
                errors.push(FieldError::new("quantity", "is required"));
                None
            }
            Some(v) => match super::whole_number(v) {
                Some(n) if (1..=i64::from(MAX_QUANTITY)).contains(&n) => u32::try_from(n).ok(),
                _ => {
                    errors.push(FieldError::new(
                        "quantity",
                        format!("must be an integer from 1 to {MAX_QUANTITY}"),
                    ));
                    None
                }
            },
        };
        match quantity {
            Some(q) if errors.is_empty() => Ok(Self(q)),
            _ => Err(errors),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A stored cart: product id → quantity, and a version that grows with every change and never
/// repeats (checkout empties the cart, never deletes it, and only if it is still the version it
/// priced).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cart {
    pub lines: BTreeMap<ProductId, Quantity>,
    pub version: u64,
}

impl Cart {
    /// The products in the cart, in id order.
    pub fn product_ids(&self) -> Vec<ProductId> {
        self.lines.keys().cloned().collect()
    }
}

/// One line of `GET /cart`, priced from the catalog as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartLineView {
    pub product_id: ProductId,
    /// `None` (JSON null) when the product was deleted since it was added.
    pub name: Option<String>,
    pub quantity: Quantity,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
    /// False when the product no longer exists; such a line counts for nothing in `total`.
    pub available: bool,
}

/// `GET /cart` (and the answer to every cart change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartView {
    pub items: Vec<CartLineView>,
    pub total: Money,
    pub currency: Currency,
}

impl CartView {
    /// Prices `cart` with `products` (the ones that still exist), in product id order, as
    /// [`checkout::price`] prices an order.
    pub fn price(cart: &Cart, products: &HashMap<ProductId, Product>, currency: &Currency) -> Self {
        let items: Vec<CartLineView> = checkout::price(cart, products)
            .into_iter()
            .map(|priced| match priced {
                Priced::Available { line, .. } => CartLineView {
                    product_id: line.product_id,
                    name: Some(line.name),
                    quantity: line.quantity,
                    unit_price: Some(line.unit_price),
                    line_total: Some(line.line_total),
                    available: true,
                },
                Priced::Missing {
                    product_id,
                    quantity,
                } => CartLineView {
                    product_id,
                    name: None,
                    quantity,
                    unit_price: None,
                    line_total: None,
                    available: false,
                },
            })
            .collect();
        let total = items.iter().filter_map(|l| l.line_total).sum();
        Self {
            items,
            total,
            currency: currency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_are_1_to_99() {
        assert_eq!(
            Quantity::parse_body(&json!({"quantity": 1})).map(Quantity::get),
            Ok(1)
        );
        assert_eq!(
            Quantity::parse_body(&json!({"quantity": 99})).map(Quantity::get),
            Ok(99)
        );
        assert_eq!(
            Quantity::parse_body(&json!({"quantity": 27.0})).map(Quantity::get),
            Ok(27)
        );
        for bad in [
            json!({"quantity": 0}),
            json!({"quantity": 100}),
            json!({"quantity": -1}),
            json!({"quantity": 1.5}),
            json!({"quantity": "2"}),
            json!({}),
            json!([]),
        ] {
            assert!(Quantity::parse_body(&bad).is_err(), "{bad}");
        }
        let errors =
            Quantity::parse_body(&json!({"quantity": 1, "note": "x"})).expect_err("unknown field");
        assert_eq!(errors[0].field, "note");
    }

    #[test]
    fn deleted_products_are_unavailable_and_not_charged() {
        let id = |s: &str| ProductId::parse(s).expect("valid id");
        let q = |n| Quantity::new(n).expect("valid quantity");
        let mut cart = Cart::default();
        cart.lines.insert(id("a"), q(2));
        cart.lines.insert(id("gone"), q(1));
        let product = Product {
            id: id("a"),
            name: "A".into(),
            description: String::new(),
            price: Money::from_minor(150).expect("a price"),
            currency: Currency::default(),
            stock: 5,
            stock_buckets: 1,
            version: 1,
            updated_at: crate::domain::Timestamp::now(),
        };
        let view = CartView::price(
            &cart,
            &[(id("a"), product)].into_iter().collect(),
            &Currency::default(),
        );
        assert_eq!(view.total, 300);
        assert_eq!(view.items[1].product_id, id("gone"));
        assert!(!view.items[1].available);
        assert_eq!(view.items[1].line_total, None);
    }
}
