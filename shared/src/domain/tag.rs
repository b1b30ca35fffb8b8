//! What every resource shares for conditional requests: the entity tag, a value with its tag
//! ([`Versioned`]), and the preconditions of RFC 9110 §13.

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn minted_tags_differ() {
        assert_ne!(EntityTag::mint(), EntityTag::mint());
    }
}
