//! Opaque, tamper-evident paging cursors.
//!
//! A cursor is `base64url(position ‖ HMAC-SHA256(key, scope ‖ 0 ‖ position)[..16])`. The position is
//! where the next page starts (for products, the last id returned); the scope names the listing it
//! belongs to, so a cursor from one listing (later: one user's orders) is refused by another. The
//! server keeps nothing between pages: everything it needs is in the cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept in a cursor: 128 bits is far beyond guessing range.
const TAG_BYTES: usize = 16;
/// Longest cursor accepted, in characters; checked before any decoding work.
pub const MAX_CURSOR_CHARS: usize = 512;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CursorError {
    #[error("the cursor is not one this API issued")]
    Invalid,
}

/// Seals and opens cursors with one key (from [`crate::config::Config::cursor`]).
#[derive(Clone)]
pub struct CursorCodec {
    /// Keyed once at start-up; each use clones this state instead of re-deriving the key pads.
    keyed: Hmac<Sha256>,
}

impl CursorCodec {
    /// Keys the codec. HMAC accepts keys of any length, so this fails only on an empty key.
    pub fn new(key: &[u8]) -> Result<Self, CursorError> {
        if key.is_empty() {
            return Err(CursorError::Invalid);
        }
        let keyed = Hmac::<Sha256>::new_from_slice(key).map_err(|_| CursorError::Invalid)?;
        Ok(Self { keyed })
    }

    fn mac(&self, scope: &str, position: &str) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(position.as_bytes());
        mac
    }

    pub fn seal(&self, scope: &str, position: &str) -> String {
        let tag = self.mac(scope, position).finalize().into_bytes();
        let mut raw = Vec::with_capacity(position.len() + TAG_BYTES);
        raw.extend_from_slice(position.as_bytes());
        raw.extend_from_slice(&tag[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Returns the position sealed in `cursor` for `scope`, or [`CursorError::Invalid`] for anything
    /// malformed, truncated, altered, or sealed for another scope or key.
    pub fn open(&self, scope: &str, cursor: &str) -> Result<String, CursorError> {
        if cursor.is_empty() || cursor.len() > MAX_CURSOR_CHARS {
            return Err(CursorError::Invalid);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::Invalid)?;
        if raw.len() <= TAG_BYTES {
            return Err(CursorError::Invalid);
        }
        let (position, tag) = raw.split_at(raw.len() - TAG_BYTES);
        let position = std::str::from_utf8(position).map_err(|_| CursorError::Invalid)?;
        // `verify_truncated_left` compares in constant time.
        self.mac(scope, position)
            .verify_truncated_left(tag)
            .map_err(|_| CursorError::Invalid)?;
        Ok(position.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(key: &[u8]) -> CursorCodec {
        CursorCodec::new(key).expect("non-empty key")
    }

    #[test]
    fn a_sealed_cursor_opens_to_its_position() {
        let c = codec(b"k");
        let cur = c.seal("products", "sku-42");
        assert_eq!(c.open("products", &cur), Ok("sku-42".to_owned()));
        assert!(!cur.contains("sku-42"), "the cursor is opaque");
    }

    #[test]
    fn any_change_is_refused() {
        let c = codec(b"k");
        let cur = c.seal("products", "sku-42");
        // Flip each character in turn to another base64url character.
        for i in 0..cur.len() {
            let mut bytes = cur.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).expect("ascii");
            assert_eq!(
                c.open("products", &altered),
                Err(CursorError::Invalid),
                "position {i}"
            );
        }
        assert_eq!(
            c.open("products", &cur[..cur.len() - 1]),
            Err(CursorError::Invalid)
        );
        assert_eq!(
            c.open("orders", &cur),
            Err(CursorError::Invalid),
            "another scope"
        );
        assert_eq!(
            codec(b"other").open("products", &cur),
            Err(CursorError::Invalid),
            "another key"
        );
        for junk in ["", "!!!", "AAAA", &"A".repeat(MAX_CURSOR_CHARS + 1)] {
            assert_eq!(
                c.open("products", junk),
                Err(CursorError::Invalid),
                "{junk:?}"
            );
        }
    }
}
