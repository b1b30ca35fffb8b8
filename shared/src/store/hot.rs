//! The per-instance copy of hot products: those whose stock is split into buckets, as this
//! instance last read them, for a shopper's cart and checkout (`DynamoStore::shop_products`). A
//! hot product's item would otherwise take a read from every add-to-cart and every checkout, and
//! its partition's reads would bind long before the buckets' writes do (docs/scale.md).
//!
//! It knows nothing of DynamoDB: the store hands it what a consistent read found, and asks it
//! what it still holds.

use crate::domain::{Product, ProductId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long an instance reuses what it read of a split product.
const HOT_FOR: Duration = Duration::from_secs(1);
/// Most products the copy holds before it drops what has expired.
const HOT_MAX: usize = 1024;

/// Split products as this instance last read them, and when. Clones share one copy.
#[derive(Debug, Clone, Default)]
pub(super) struct HotProducts(Arc<Mutex<HashMap<ProductId, (Instant, Product)>>>);

impl HotProducts {
    /// Keeps the split products among `ids` as `fresh` shows them (read just now), and forgets
    /// the others.
    pub(super) fn remember(&self, ids: &[ProductId], fresh: &HashMap<ProductId, Product>) {
        let now = Instant::now();
        let mut hot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if hot.len() >= HOT_MAX {
            hot.retain(|_, (at, _)| now.duration_since(*at) < HOT_FOR);
        }
        for id in ids {
            match fresh.get(id) {
                // Only a split product: it is the hot one, and every other keeps the read-your-
                // writes answers of a consistent read.
                Some(p) if p.stock_buckets > 1 && hot.len() < HOT_MAX => {
                    hot.insert(id.clone(), (now, p.clone()));
                }
                _ => {
                    hot.remove(id);
                }
            }
        }
    }

    /// The products among `ids` read less than a second ago, and the ids to read.
    pub(super) fn recall(
        &self,
        ids: &[ProductId],
    ) -> (HashMap<ProductId, Product>, Vec<ProductId>) {
        let now = Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut unknown = Vec::new();
        let hot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            match hot.get(id) {
                Some((at, product)) if now.duration_since(*at) < HOT_FOR => {
                    found.insert(id.clone(), product.clone());
                }
                _ => unknown.push(id.clone()),
            }
        }
        (found, unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, buckets: u32) -> (ProductId, Product) {
        let id = ProductId::parse(id).expect("id");
        let p = Product {
            id: id.clone(),
            name: "n".into(),
            description: String::new(),
            price: crate::domain::Money::ZERO,
            currency: crate::domain::Currency::default(),
            stock: 5,
            stock_buckets: buckets,
            version: 1,
            updated_at: crate::domain::Timestamp::now(),
        };
        (id, p)
    }

    #[test]
    fn only_split_products_are_kept_and_a_fresh_read_replaces_them() {
        let hot = HotProducts::default();
        let (a, pa) = product("a", 4);
        let (b, pb) = product("b", 1);
        let ids = vec![a.clone(), b.clone()];
        hot.remember(&ids, &HashMap::from([(a.clone(), pa), (b.clone(), pb)]));
        let (found, unknown) = hot.recall(&ids);
        assert_eq!(found.keys().collect::<Vec<_>>(), vec![&a]);
        assert_eq!(unknown, vec![b]);
        // Read again and gone (deleted, or no longer split): forgotten.
        hot.remember(std::slice::from_ref(&a), &HashMap::new());
        assert!(hot.recall(&ids).0.is_empty());
    }
}
