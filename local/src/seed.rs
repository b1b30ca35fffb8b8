//! Demo products, written only into an empty catalog so a first `curl` has something to show.

use shared::App;
use shared::domain::{Precondition, ProductDraft, ProductId};
use shared::store::StoreError;

/// (id, name, description, price in cents, stock)
const DEMO: &[(&str, &str, &str, i64, i64)] = &[
    (
        "espresso-cup",
        "Espresso cup",
        "Stoneware, 80 ml, dishwasher safe.",
        900,
        120,
    ),
    (
        "pour-over-kettle",
        "Pour-over kettle",
        "Gooseneck, 1 l, stainless steel.",
        4_900,
        25,
    ),
    (
        "grinder",
        "Hand grinder",
        "Conical ceramic burrs, 18 settings.",
        3_450,
        40,
    ),
    (
        "beans-ethiopia",
        "Beans: Ethiopia Guji",
        "Washed, light roast, 250 g.",
        1_450,
        200,
    ),
    (
        "filter-papers",
        "Filter papers",
        "Pack of 100, unbleached.",
        550,
        500,
    ),
];

/// Writes the demo products when the catalog is empty; returns how many it wrote.
pub async fn seed_if_empty(app: &App) -> Result<usize, StoreError> {
    let store = app.store();
    if !store.list_products(None, 1).await?.items.is_empty() {
        return Ok(0);
    }
    for (id, name, description, price, stock) in DEMO {
        let id = ProductId::parse(id).map_err(|e| StoreError::Internal(e.to_string().into()))?;
        let body = serde_json::json!({"name": name, "description": description, "price": price, "stock": stock});
        let draft = ProductDraft::parse(&body)
            .map_err(|e| StoreError::Internal(format!("{e:?}").into()))?;
        // If-None-Match: * semantics, so two local servers racing on one database never overwrite.
        match store
            .put_product(&id, &draft, app.config().currency(), &Precondition::Absent)
            .await
        {
            Ok(_) | Err(StoreError::PreconditionFailed) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(DEMO.len())
}
