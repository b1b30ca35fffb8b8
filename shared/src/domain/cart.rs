//! The cart: the classic piece of session state, kept in DynamoDB under the caller's `sub` so any
//! instance can serve any request.

use super::{FieldError, Product};
use serde::Serialize;
use std::collections::BTreeMap;

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITY: u32 = 99;
/// Most distinct products in one cart. Checkout writes one stock update per line plus the order,
/// the cart update, the idempotency record and the open-order counter in a single DynamoDB
/// transaction (at most 100 actions), so a full cart takes 54: it always checks out in one
/// transaction, with room to spare.
pub const MAX_CART_LINES: usize = 50;

/// A validated quantity, from `{"quantity": 1..=99}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

impl Quantity {
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
    pub lines: BTreeMap<String, u32>,
    pub version: u64,
}

impl Cart {
    /// The products in the cart, in id order. Stored ids were validated when they were added, so
    /// an error here means a corrupt item.
    pub fn product_ids(&self) -> Result<Vec<super::ProductId>, FieldError> {
        self.lines
            .keys()
            .map(|id| super::ProductId::parse(id))
            .collect()
    }
}

/// One line of `GET /cart`, priced from the catalog as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartLineView {
    pub product_id: String,
    /// `None` (JSON null) when the product was deleted since it was added.
    pub name: Option<String>,
    pub quantity: u32,
    pub unit_price: Option<i64>,
    pub line_total: Option<i64>,
    /// False when the product no longer exists; such a line counts for nothing in `total`.
    pub available: bool,
}

/// `GET /cart` (and the answer to every cart change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartView {
    pub items: Vec<CartLineView>,
    pub total: i64,
    pub currency: String,
}

impl CartView {
    /// Prices `cart` with `products` (the ones that still exist), in product id order.
    pub fn price(
        cart: &Cart,
        products: &std::collections::HashMap<String, Product>,
        currency: &str,
    ) -> Self {
        let items: Vec<CartLineView> = cart
            .lines
            .iter()
            .map(|(id, &quantity)| match products.get(id) {
                Some(p) => CartLineView {
                    product_id: id.clone(),
                    name: Some(p.name.clone()),
                    quantity,
                    unit_price: Some(p.price),
                    line_total: Some(p.price * i64::from(quantity)),
                    available: true,
                },
                None => CartLineView {
                    product_id: id.clone(),
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
            currency: currency.to_owned(),
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
        let mut cart = Cart::default();
        cart.lines.insert("a".into(), 2);
        cart.lines.insert("gone".into(), 1);
        let product = Product {
            id: "a".into(),
            name: "A".into(),
            description: String::new(),
            price: 150,
            currency: "EUR".into(),
            stock: 5,
            version: 1,
            updated_at: String::new(),
        };
        let view = CartView::price(
            &cart,
            &[("a".to_owned(), product)].into_iter().collect(),
            "EUR",
        );
        assert_eq!(view.total, 300);
        assert_eq!(view.items[1].product_id, "gone");
        assert!(!view.items[1].available);
        assert_eq!(view.items[1].line_total, None);
    }
}
