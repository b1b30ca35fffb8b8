//! Orders, and the inputs of checkout: the idempotency key and the optional request body.

use super::{Currency, FieldError, Money, ProductId, Quantity, Timestamp};
use serde::{Deserialize, Serialize};

/// An order id: a UUIDv7 in canonical form, so ids sort by creation time (newest-first listing is a
/// reverse range read) and reveal nothing about other orders.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct OrderId(String);

super::eq_text!(OrderId);

impl TryFrom<String> for OrderId {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl OrderId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    /// Accepts only the canonical lower-case hyphenated form this API issues.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match uuid::Uuid::try_parse(raw) {
            Ok(id) if id.hyphenated().to_string() == raw => Ok(Self(raw.to_owned())),
            _ => Err(FieldError::new("id", "is not an order id")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for OrderId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Placed,
    Cancelled,
}

impl OrderStatus {
    /// The status as the API shows and the table stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One line of an order, at the price charged when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
}

/// An order as the API shows it (and as it is stored, minus the keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub items: Vec<OrderLine>,
    pub total: Money,
    pub currency: Currency,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An `Idempotency-Key` header value: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_IDEMPOTENCY_KEY_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "Idempotency-Key",
                format!(
                    "must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters (e.g. a UUID)"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The optional body of `POST /orders`: `{"expected_total": n}` guards against paying a total the
/// client never saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckoutRequest {
    pub expected_total: Option<Money>,
}

impl CheckoutRequest {
    pub fn parse(body: &serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new("", "the body must be a JSON object")]);
        };
        let mut errors: Vec<FieldError> = obj
            .keys()
            .filter(|k| k.as_str() != "expected_total")
            .map(|k| FieldError::new(k.as_str(), "is not a checkout field"))
            .collect();
        let expected_total = match obj.get("expected_total") {
            None => None,
            Some(v) => match super::whole_number(v) {
                Some(n) if n >= 0 => Money::from_minor(n).ok(),
                _ => {
                    errors.push(FieldError::new(
                        "expected_total",
                        "must be a non-negative integer (minor units)",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Self { expected_total })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_stored_as_it_is_serialized() {
        for status in [OrderStatus::Placed, OrderStatus::Cancelled] {
            assert_eq!(
                serde_json::to_value(status).expect("serializes"),
                serde_json::Value::from(status.as_str())
            );
        }
    }
    use serde_json::json;

    #[test]
    fn order_ids_are_canonical_uuids_sorting_by_time() {
        let a = OrderId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = OrderId::new();
        assert!(a < b, "later ids sort after earlier ones");
        assert_eq!(OrderId::parse(a.as_str()), Ok(a.clone()));
        for bad in [
            "",
            "x",
            &a.as_str().to_uppercase(),
            &a.as_str().replace('-', ""),
            "../orders",
        ] {
            assert!(OrderId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("3f1c-abc_DEF!~").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", " ", "a b", "tab\t", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checkout_bodies() {
        assert_eq!(
            CheckoutRequest::parse(&json!({})),
            Ok(CheckoutRequest {
                expected_total: None
            })
        );
        assert_eq!(
            CheckoutRequest::parse(&json!({"expected_total": 900})),
            Ok(CheckoutRequest {
                expected_total: Money::from_minor(900).ok()
            })
        );
        assert_eq!(
            CheckoutRequest::parse(&json!({"expected_total": 900.0})),
            Ok(CheckoutRequest {
                expected_total: Money::from_minor(900).ok()
            })
        );
        assert!(CheckoutRequest::parse(&json!({"expected_total": 900.5})).is_err());
        assert!(CheckoutRequest::parse(&json!({"expected_total": -1})).is_err());
        assert!(CheckoutRequest::parse(&json!({"expected_total": "9"})).is_err());
        assert!(CheckoutRequest::parse(&json!({"coupon": "FREE"})).is_err());
    }
}

/// What checkout stores with an idempotency key, in the same transaction as the order: the
/// request's fingerprint and the order it placed, replayed for a retry of the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// [`CheckoutRequest::fingerprint`] of the request that placed the order.
    pub fingerprint: String,
    /// The order placed, as it was answered (201 with this body, `Location: /orders/{id}`).
    pub order: Order,
}

impl CheckoutRequest {
    /// What makes two checkout requests "the same request" for an idempotency key: their meaning,
    /// not their bytes (`{}` and an empty body are the same; so are two spellings of one total).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let canonical = match self.expected_total {
            Some(total) => format!("POST /orders expected_total={total}"),
            None => "POST /orders".to_owned(),
        };
        sha2::Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
