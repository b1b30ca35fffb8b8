//! Cart items: one per user, `PK = USER#<sub>`, `SK = CART`, lines as a map of product id → quantity.

use super::batch::batch_get;
use super::client::DynamoStore;
use super::error::StoreError;
use super::expr::{Expr, WithPlaceholders, n, s};
use super::keys::{self, CART_SK, Item, to_item, user_pk};
use super::ops::CartChange;
use super::retry;
use crate::domain::{Cart, MAX_CART_LINES, ProductId, Quantity, Timestamp, UserId};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const ENTITY: &str = "cart";

#[derive(Serialize, Deserialize)]
pub(super) struct CartItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub lines: BTreeMap<ProductId, Quantity>,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl CartItem {
    pub(super) fn into_cart(self) -> Cart {
        Cart {
            lines: self.lines,
            version: self.version,
        }
    }
}

pub(super) fn cart_from_item(item: Item) -> Result<Cart, StoreError> {
    serde_dynamo::from_item::<_, CartItem>(item)
        .map(CartItem::into_cart)
        .map_err(StoreError::corrupt)
}

impl DynamoStore {
    /// `GET /cart` and friends: the caller's cart (empty when there is none).
    pub async fn get_cart(&self, user: &UserId) -> Result<Cart, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::cart(user).item()?))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        out.item
            .map(cart_from_item)
            .transpose()
            .map(Option::unwrap_or_default)
    }
}

/// How many times a cart write retries after losing a race with another write to the same cart.
const CART_WRITE_ATTEMPTS: usize = 4;

/// What became of one attempt to set a cart line.
enum Attempt {
    Done(CartChange),
    /// Lost a race with another write to the same cart: try again.
    Again,
}

impl DynamoStore {
    /// `PUT /cart/items/{product_id}`: one UpdateItem (a PutItem for a first line).
    pub async fn set_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
        quantity: Quantity,
    ) -> Result<CartChange, StoreError> {
        for _ in 0..CART_WRITE_ATTEMPTS {
            if let Attempt::Done(change) = self.try_set_cart_line(user, product, quantity).await? {
                return Ok(change);
            }
        }
        Err(StoreError::Unavailable(
            "the cart kept changing under concurrent writes".into(),
        ))
    }

    /// The common case, one UpdateItem: set the line, unless that would add a line to a full
    /// cart; `size()` of a map counts its entries, so the cap holds under concurrency too. No
    /// cart yet: it is created, unless another request just did (then, again).
    async fn try_set_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
        quantity: Quantity,
    ) -> Result<Attempt, StoreError> {
        let now = Timestamp::now();
        let mut e = Expr::new();
        let lines = e.name("lines");
        let line = format!("{lines}.{}", e.name_as("product", product.as_str()));
        let update = format!(
            "SET {line} = {q}, {version} = {version} + {one}, {updated} = {now}",
            q = e.value("quantity", n(quantity.get())),
            version = e.name("version"),
            one = e.value("one", n(1)),
            updated = e.name("updated_at"),
            now = e.value("now", s(now.clone())),
        );
        let condition = format!(
            "attribute_exists({lines}) AND (attribute_exists({line}) OR size({lines}) < {cap})",
            cap = e.value("cap", n(MAX_CART_LINES)),
        );
        let update = e
            .update_item(
                &self.client,
                &self.table,
                &keys::cart(user),
                update,
                condition,
            )?
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let current = match retry::write(|| update.clone().send()).await? {
            Ok(out) => {
                let cart = cart_from_item(out.attributes.unwrap_or_default())?;
                return Ok(Attempt::Done(CartChange::Updated(cart)));
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                _ => return Err(StoreError::from_sdk(err)),
            },
        };
        let Some(item) = current else {
            return self.create_cart(user, product, quantity, now).await;
        };
        let cart = cart_from_item(item)?;
        if cart.lines.len() >= MAX_CART_LINES && !cart.lines.contains_key(product) {
            return Ok(Attempt::Done(CartChange::Full));
        }
        // Raced with a concurrent change that made room: try again.
        Ok(Attempt::Again)
    }

    /// A user's first cart, holding one line, unless another request just created one.
    async fn create_cart(
        &self,
        user: &UserId,
        product: &ProductId,
        quantity: Quantity,
        now: Timestamp,
    ) -> Result<Attempt, StoreError> {
        let item = to_item(&CartItem {
            pk: user_pk(user),
            sk: CART_SK.to_owned(),
            entity: ENTITY.to_owned(),
            lines: BTreeMap::from([(product.clone(), quantity)]),
            version: 1,
            updated_at: now,
        })?;
        let mut e = Expr::new();
        let condition = format!("attribute_not_exists({})", e.name("PK"));
        let bound = e.done(&[&condition])?;
        let create = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression(condition)
            .placeholders(bound);
        match retry::write(|| create.clone().send()).await? {
            Ok(_) => cart_from_item(item).map(|c| Attempt::Done(CartChange::Updated(c))),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Attempt::Again)
            }
            Err(err) => Err(StoreError::from_sdk(err)),
        }
    }

    /// `DELETE /cart/items/{product_id}`: one UpdateItem; removing a line that is not there succeeds.
    pub async fn remove_cart_line(
        &self,
        user: &UserId,
        product: &ProductId,
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let line = format!(
            "{}.{}",
            e.name("lines"),
            e.name_as("product", product.as_str())
        );
        let update = format!(
            "REMOVE {line} SET {version} = {version} + {one}, {updated} = {now}",
            version = e.name("version"),
            one = e.value("one", n(1)),
            updated = e.name("updated_at"),
            now = e.value("now", s(Timestamp::now())),
        );
        let condition = format!("attribute_exists({line})");
        let remove = e.update_item(
            &self.client,
            &self.table,
            &keys::cart(user),
            update,
            condition,
        )?;
        let removed = retry::write(|| remove.clone().send()).await?;
        match removed {
            Ok(_) => Ok(()),
            // The line (or the whole cart) was not there: deleting it is already done.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(StoreError::from_sdk(err)),
        }
    }
}

/// Reads a user's cart and another item of their partition in one round trip.
pub(super) async fn cart_and(
    store: &DynamoStore,
    user: &UserId,
    other: Item,
) -> Result<(Cart, Option<Item>), StoreError> {
    let cart_key = keys::cart(user).item()?;
    let mut found = batch_get(store, vec![cart_key.clone(), other.clone()]).await?;
    let key_of = |item: &Item| (item.get("PK").cloned(), item.get("SK").cloned());
    let mut cart = Cart::default();
    let mut rest = None;
    for item in found.drain(..) {
        if key_of(&item) == key_of(&cart_key) {
            cart = cart_from_item(item)?;
        } else if key_of(&item) == key_of(&other) {
            rest = Some(item);
        }
    }
    Ok((cart, rest))
}
