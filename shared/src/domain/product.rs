//! The catalog's types: a product's id, what an admin may write of it ([`ProductDraft`]), the
//! product as stored and shown ([`Product`]), and the shop's currency.

use super::{
    FieldError, MAX_AMOUNT, MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_STOCK_BUCKETS,
    Money, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A product id: 1–64 characters of `[A-Za-z0-9_-]`, chosen by the client in `PUT /products/{id}`.
///
/// The alphabet keeps ids safe in URLs, in DynamoDB keys (`#` is our key separator) and in logs.
/// Read back from the table through [`ProductId::parse`] too (`try_from`), so an entity holding
/// one holds a valid one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId(String);

super::eq_text!(ProductId);

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

super::eq_text!(Currency);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "currency",
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

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
    price: Money,
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
                    price: Money::from_minor(price).map_err(|e| vec![e])?,
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
    pub fn price(&self) -> Money {
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

/// A product as the API shows it (and as it is stored, minus the keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub currency: Currency,
    /// Units available: with the stock split into buckets, their sum.
    pub stock: i64,
    /// How many items the stock is split over ([`stock`]); 1 unless an admin spread it.
    #[serde(default = "one_bucket")]
    pub stock_buckets: u32,
    /// Starts at 1 when the product is created and grows by one with every write of its catalog
    /// fields or of bucket 0's stock.
    pub version: u64,
    pub updated_at: Timestamp,
}

fn one_bucket() -> u32 {
    1
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
    fn a_complete_draft_parses() {
        let d = ProductDraft::parse(
            &json!({"name":"Mug","description":"","price":0,"stock":1_000_000_000}),
        )
        .expect("valid draft");
        assert_eq!(
            (d.name(), d.description(), d.price().minor(), d.stock()),
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
        assert_eq!((d.price().minor(), d.stock()), (900, 100));
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
}
