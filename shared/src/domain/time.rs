//! An instant as every entity carries it: RFC 3339, UTC, millisecond precision.

use super::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;

/// An instant in RFC 3339, e.g. `2026-11-26T04:36:10.123Z`. Those written here are UTC with
/// milliseconds, so they sort as text; any RFC 3339 instant is read back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(String);

super::eq_text!(Timestamp);

impl Timestamp {
    /// Now, in UTC with millisecond precision.
    pub fn now() -> Self {
        let now = time::OffsetDateTime::now_utc();
        Self(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
            now.millisecond()
        ))
    }

    /// An RFC 3339 instant; refused otherwise.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        time::OffsetDateTime::parse(raw, &Rfc3339)
            .map(|_| Self(raw.to_owned()))
            .map_err(|_| FieldError::new("timestamp", "must be an RFC 3339 instant"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Timestamp {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = Timestamp::now();
        assert_eq!(t.as_str().len(), 24, "{t}");
        assert!(time::OffsetDateTime::parse(t.as_str(), &Rfc3339).is_ok());
        assert_eq!(Timestamp::parse(t.as_str()), Ok(t));
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(serde_json::from_value::<Timestamp>("2026-12-07".into()).is_err());
    }
}
