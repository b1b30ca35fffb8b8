//! Domain types: the catalog's vocabulary, validated once at the edge.
//!
//! Every value that crosses into the system goes through a `parse` constructor, so code past the
//! handlers never sees an id with a slash in it or a negative price. Fields are private; the only way
//! to hold a [`ProductId`] or a [`ProductDraft`] is to have had it checked.
//!
//! This file holds the catalog's types and what every resource shares (field errors, entity tags,
//! preconditions, timestamps); [`cart`] and [`order`] hold the shopping side, [`checkout`] and
//! [`stock`] its rules.

pub mod cancel;
pub mod cart;
pub mod checkout;
pub mod commit;
pub mod order;
pub mod stock;

pub use cart::{Cart, CartLineView, CartView, MAX_CART_LINES, MAX_QUANTITY, Quantity};
pub use checkout::{CheckoutPlan, LineReason, LineRejection, Rejection};
pub use order::{
    CheckoutRequest, IdempotencyKey, IdempotencyRecord, Order, OrderId, OrderLine, OrderStatus,
};
pub use stock::MAX_STOCK_BUCKETS;

use serde::{Deserialize, Serialize};
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
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.chars().count() <= MAX_SUBJECT_CHARS
            && !raw.chars().any(char::is_control);
        ok.then(|| Self(raw.to_owned()))
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

/// A product id: 1–64 characters of `[A-Za-z0-9_-]`, chosen by the client in `PUT /products/{id}`.
///
/// The alphabet keeps ids safe in URLs, in DynamoDB keys (`#` is our key separator) and in logs.
/// Read back from the table through [`ProductId::parse`] too (`try_from`), so an entity holding
/// one holds a valid one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId(String);

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

eq_text!(ProductId);

impl TryFrom<String> for ProductId {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl ProductId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok_len = !raw.is_empty() && raw.len() <= MAX_ID_CHARS;
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok_len && ok_chars {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "id",
                format!("must be 1 to {MAX_ID_CHARS} characters of A-Z, a-z, 0-9, '_' or '-'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The store's one currency: an ISO 4217 code of three upper-case letters (`CURRENCY`, default EUR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "CURRENCY",
                "must be an ISO 4217 code of three upper-case letters, e.g. EUR",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self("EUR".to_owned())
    }
}

/// What a client may write about a product: exactly `name`, `description`, `price` and `stock`.
///
/// Built only by [`ProductDraft::parse`], which reports every broken rule at once so a client can fix
/// its request in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    name: String,
    description: String,
    price: i64,
    stock: i64,
    stock_buckets: Option<u32>,
}

/// Fields the server owns: a client that sends them is told so, not silently ignored.
const SERVER_OWNED: &[&str] = &["id", "currency", "version", "updated_at"];
const WRITABLE: &[&str] = &["name", "description", "price", "stock", "stock_buckets"];

impl ProductDraft {
    /// Validates a JSON body. Anything but an object with the four required writable fields (and,
    /// optionally, `stock_buckets`), each of the right type and range, is refused with one
    /// [`FieldError`] per offence. `stock_buckets` left out keeps the product's split as it is
    /// (1 for a new product), so a client written before the field existed cannot undo a spread.
    pub fn parse(body: &serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new("", "the body must be a JSON object")]);
        };
        let mut errors = Vec::new();
        for key in obj.keys() {
            if SERVER_OWNED.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key.as_str(),
                    "is set by the server and may not be written",
                ));
            } else if !WRITABLE.contains(&key.as_str()) {
                errors.push(FieldError::new(key.as_str(), "is not a product field"));
            }
        }
        let name = text(obj.get("name"), "name", 1, MAX_NAME_CHARS, &mut errors);
        let description = text(
            obj.get("description"),
            "description",
            0,
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
        let price = amount(obj.get("price"), "price", &mut errors);
        let stock = amount(obj.get("stock"), "stock", &mut errors);
        let stock_buckets = buckets(obj.get("stock_buckets"), &mut errors);
        match (name, description, price, stock, stock_buckets) {
            (Some(name), Some(description), Some(price), Some(stock), Some(stock_buckets))
                if errors.is_empty() =>
            {
                Ok(Self {
                    name,
                    description,
                    price,
                    stock,
                    stock_buckets,
                })
            }
            _ => Err(errors),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    pub fn price(&self) -> i64 {
        self.price
    }
    pub fn stock(&self) -> i64 {
        self.stock
    }
    /// How many items to split the stock over (1 to [`MAX_STOCK_BUCKETS`]); `None`: as it is.
    pub fn stock_buckets(&self) -> Option<u32> {
        self.stock_buckets
    }
}

/// `Some(None)` when absent, `Some(Some(k))` when valid, `None` (with an error noted) otherwise.
fn buckets(value: Option<&serde_json::Value>, errors: &mut Vec<FieldError>) -> Option<Option<u32>> {
    let Some(value) = value else {
        return Some(None);
    };
    match whole_number(value).and_then(|n| u32::try_from(n).ok()) {
        Some(n) if (1..=MAX_STOCK_BUCKETS).contains(&n) => Some(Some(n)),
        _ => {
            errors.push(FieldError::new(
                "stock_buckets",
                format!("must be an integer from 1 to {MAX_STOCK_BUCKETS}"),
            ));
            None
        }
    }
}

fn text(
    value: Option<&serde_json::Value>,
    field: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match value {
        None => errors.push(FieldError::new(field, "is required")),
        Some(serde_json::Value::String(s)) => {
            let chars = s.chars().count();
            if chars < min || chars > max {
                errors.push(FieldError::new(
                    field,
                    format!("must be {min} to {max} characters long"),
                ));
            } else {
                return Some(s.clone());
            }
        }
        Some(_) => errors.push(FieldError::new(field, "must be a string")),
    }
    None
}

fn amount(
    value: Option<&serde_json::Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    match value {
        None => errors.push(FieldError::new(field, "is required")),
        Some(v) => match whole_number(v) {
            Some(n) if (0..=MAX_AMOUNT).contains(&n) => return Some(n),
            Some(_) => errors.push(FieldError::new(
                field,
                format!("must be from 0 to {MAX_AMOUNT}"),
            )),
            None if v.is_number() => errors.push(FieldError::new(
                field,
                format!("must be a whole number from 0 to {MAX_AMOUNT}"),
            )),
            None => errors.push(FieldError::new(field, "must be an integer")),
        },
    }
    None
}

/// The value of a JSON number that is a whole number within `i64`: `27`, and also `27.0` or `2.7e1`,
/// which JSON (RFC 8259) and JSON Schema's `integer` treat as the same number as `27`. `None` for a
/// fraction, a number beyond `i64`, or anything that is not a number.
pub fn whole_number(value: &serde_json::Value) -> Option<i64> {
    let serde_json::Value::Number(number) = value else {
        return None;
    };
    if let Some(n) = number.as_i64() {
        return Some(n);
    }
    if !number.is_f64() {
        return None; // an integer beyond i64
    }
    // 2^63 is exact as an f64, and every f64 in (-2^63, 2^63) without a fraction converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let f = number.as_f64()?;
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// A product as the API shows it. `price` is in minor units (cents) of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    /// Units available: with the stock split into buckets, their sum.
    pub stock: i64,
    /// How many items the stock is split over ([`stock`]); 1 unless an admin spread it.
    #[serde(default = "one_bucket")]
    pub stock_buckets: u32,
    /// Starts at 1 when the product is created and grows by one with every write of its catalog
    /// fields or of bucket 0's stock.
    pub version: u64,
    /// RFC 3339, UTC, millisecond precision.
    pub updated_at: String,
}

fn one_bucket() -> u32 {
    1
}

/// A stored product with its entity tag: the tag travels in the `ETag` header, not in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: EntityTag,
}

/// A strong entity tag: an opaque value that changes with every write of the resource.
///
/// The store mints a fresh random tag per write, so a product deleted and created again never
/// repeats an old tag, which a tag derived from the version number alone would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag(String);

impl EntityTag {
    /// A fresh random tag (122 bits of randomness from a v4 UUID).
    pub fn mint() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Wraps a stored tag value (without quotes). Only the store calls this, with values it minted.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The header form, with quotes: `"3f2a…"`.
    pub fn header_value(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// What a conditional request asks of the current state (RFC 9110 §13), already parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// No condition: write or delete whatever is there.
    #[default]
    None,
    /// `If-Match: *`: the resource must exist.
    Exists,
    /// `If-Match: "a", "b"`: the current tag must be one of these (strong comparison).
    MatchesAny(Vec<EntityTag>),
    /// `If-None-Match: *`: the resource must not exist.
    Absent,
    /// `If-None-Match: "a", "b"`: the current tag must be none of these.
    MatchesNone(Vec<EntityTag>),
}

impl Precondition {
    /// Whether the precondition holds for a resource whose current tag is `current` (`None`: it
    /// does not exist), by strong comparison (RFC 9110 §13.1.1, §13.1.2).
    pub fn holds(&self, current: Option<&EntityTag>) -> bool {
        match (self, current) {
            (Self::None, _) => true,
            (Self::Exists, current) => current.is_some(),
            (Self::MatchesAny(tags), Some(tag)) => tags.contains(tag),
            (Self::MatchesAny(_), None) => false,
            (Self::Absent, current) => current.is_none(),
            (Self::MatchesNone(tags), Some(tag)) => !tags.contains(tag),
            (Self::MatchesNone(_), None) => true,
        }
    }
}

/// Current time as RFC 3339 UTC with millisecond precision, e.g. `2026-11-26T04:36:10.123Z`.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let millis = now.millisecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn product_ids_follow_the_documented_alphabet_and_length() {
        assert!(ProductId::parse("sku_1-A").is_ok());
        assert!(ProductId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "a b", "a/b", "a#b", "é", "a.b", &"a".repeat(65)] {
            assert!(ProductId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn stock_buckets_is_optional_and_bounded() {
        let base = json!({"name":"Mug","description":"","price":1,"stock":5});
        let draft = ProductDraft::parse(&base).expect("no stock_buckets is valid");
        assert_eq!(draft.stock_buckets(), None);
        let mut with = base.clone();
        with["stock_buckets"] = json!(8);
        assert_eq!(
            ProductDraft::parse(&with).map(|d| d.stock_buckets()),
            Ok(Some(8))
        );
        for bad in [
            json!(0),
            json!(17),
            json!(-1),
            json!(2.5),
            json!("8"),
            json!(null),
        ] {
            with["stock_buckets"] = bad.clone();
            assert_eq!(fields(with.clone()), vec!["stock_buckets"], "{bad}");
        }
    }

    #[test]
    fn preconditions_hold_as_rfc_9110_says() {
        let a = EntityTag::from_stored("a".into());
        let b = EntityTag::from_stored("b".into());
        let any = Precondition::MatchesAny(vec![a.clone()]);
        let none = Precondition::MatchesNone(vec![a.clone()]);
        assert!(any.holds(Some(&a)) && !any.holds(Some(&b)) && !any.holds(None));
        assert!(!none.holds(Some(&a)) && none.holds(Some(&b)) && none.holds(None));
        assert!(Precondition::Exists.holds(Some(&b)) && !Precondition::Exists.holds(None));
        assert!(Precondition::Absent.holds(None) && !Precondition::Absent.holds(Some(&a)));
        assert!(Precondition::None.holds(None) && Precondition::None.holds(Some(&a)));
    }

    #[test]
    fn a_complete_draft_parses() {
        let d = ProductDraft::parse(
            &json!({"name":"Mug","description":"","price":0,"stock":1_000_000_000}),
        )
        .expect("valid draft");
        assert_eq!(
            (d.name(), d.description(), d.price(), d.stock()),
            ("Mug", "", 0, 1_000_000_000)
        );
    }

    fn fields(body: serde_json::Value) -> Vec<String> {
        ProductDraft::parse(&body)
            .expect_err("should be refused")
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_offending_field_is_named() {
        assert_eq!(
            fields(json!({"name":"","description":"d","price":1,"stock":1})),
            ["name"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":-1,"stock":1})),
            ["price"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":1.5,"stock":1})),
            ["price"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":"1","stock":1})),
            ["price"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":1,"stock":1_000_000_001})),
            ["stock"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":1})),
            ["stock"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":1,"stock":1,"version":2})),
            ["version"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"d","price":1,"stock":1,"colour":"red"})),
            ["colour"]
        );
        assert_eq!(
            fields(json!({"name":"n","description":"x".repeat(2001),"price":1,"stock":1})),
            ["description"]
        );
        assert_eq!(
            fields(json!({"name":"n".repeat(201),"description":"","price":1,"stock":1})),
            ["name"]
        );
        assert_eq!(fields(json!([1, 2])), [""]);
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_point_or_an_exponent() {
        for (v, n) in [
            (json!(27), Some(27)),
            (json!(27.0), Some(27)),
            (json!(-0.0), Some(0)),
            (json!(1e9), Some(1_000_000_000)),
            (json!(1.5), None),
            (json!(1e19), None),
            (json!(u64::MAX), None),
            (json!("27"), None),
            (json!(null), None),
        ] {
            assert_eq!(whole_number(&v), n, "{v}");
        }
        let d =
            ProductDraft::parse(&json!({"name":"n","description":"","price":900.0,"stock":1e2}))
                .expect("whole numbers are integers however they are written");
        assert_eq!((d.price(), d.stock()), (900, 100));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let name = "é".repeat(200); // 400 bytes, 200 characters
        assert!(
            ProductDraft::parse(&json!({"name":name,"description":"","price":1,"stock":1})).is_ok()
        );
    }

    #[test]
    fn currency_must_be_an_iso_code() {
        assert!(Currency::parse("USD").is_ok());
        for bad in ["usd", "EURO", "", "E1R"] {
            assert!(Currency::parse(bad).is_err());
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 24, "{t}");
        assert!(
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok()
        );
    }

    #[test]
    fn user_ids_are_bounded_and_printable() {
        assert!(UserId::parse("auth0|5f3c").is_some());
        assert!(UserId::parse("").is_none());
        assert!(UserId::parse("a\nb").is_none());
        assert!(UserId::parse(&"u".repeat(256)).is_none());
    }

    #[test]
    fn minted_tags_differ() {
        assert_ne!(EntityTag::mint(), EntityTag::mint());
    }
}
