//! Expressions, built in one way: [`Expr`] hands out each placeholder where the expression uses
//! it and checks, when done, that every placeholder the expressions name is bound and every one
//! bound is named (DynamoDB refuses either mistake, but only at run time, and only on the path that
//! makes it). Also preconditions on entity tags as condition expressions, and attribute values.
//!
//! A crate was looked for first: `dynamodb-expression` builds typed expressions for this SDK, but
//! is a pre-release (0.2.0-beta) with six dependencies of its own, for what is one small type here.

use super::error::StoreError;
use super::schema;
use crate::domain::{EntityTag, Precondition};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The placeholders of one operation's expressions, each declared where it is used.
#[derive(Debug, Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// The placeholders an operation sends, checked against its expressions ([`Expr::done`]).
#[derive(Debug, Default)]
pub(super) struct Bound {
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
}

impl Expr {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// The placeholder of attribute `attr` (`#attr`, the same each time it is asked for).
    pub(super) fn name(&mut self, attr: &str) -> String {
        self.name_as(attr, attr)
    }

    /// A placeholder of attribute `attr` named after `hint` (`#hint`, or `#hint<N>` when
    /// `#hint` stands for another attribute): for attributes named by data, such as a cart's
    /// line per product id.
    pub(super) fn name_as(&mut self, hint: &str, attr: &str) -> String {
        let base = format!("#{}", token(hint));
        let mut placeholder = base.clone();
        let mut n = 1;
        while let Some(bound) = self.names.get(&placeholder) {
            if bound == attr {
                return placeholder;
            }
            placeholder = format!("{base}{n}");
            n += 1;
        }
        self.names.insert(placeholder.clone(), attr.to_owned());
        placeholder
    }

    /// A placeholder bound to `value`: `:hint`, or `:hint<N>` when `:hint` holds another value.
    pub(super) fn value(&mut self, hint: &str, value: AttributeValue) -> String {
        let base = format!(":{}", token(hint));
        let mut placeholder = base.clone();
        let mut n = 1;
        while let Some(bound) = self.values.get(&placeholder) {
            if *bound == value {
                return placeholder;
            }
            placeholder = format!("{base}{n}");
            n += 1;
        }
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The placeholders, once `expressions` (all the operation sends) name each bound one and
    /// no other: a mistake is an internal error here, with the placeholder named, not a
    /// `ValidationException` from DynamoDB.
    pub(super) fn done(self, expressions: &[&str]) -> Result<Bound, StoreError> {
        let used: Vec<&str> = expressions.iter().flat_map(|e| placeholders(e)).collect();
        let bound = self.names.keys().chain(self.values.keys());
        if let Some(unused) = bound.clone().find(|p| !used.contains(&p.as_str())) {
            return Err(StoreError::Internal(
                format!("placeholder {unused} is bound but no expression uses it").into(),
            ));
        }
        if let Some(missing) = used
            .iter()
            .find(|p| !self.names.contains_key(**p) && !self.values.contains_key(**p))
        {
            return Err(StoreError::Internal(
                format!("placeholder {missing} is used but not bound").into(),
            ));
        }
        Ok(Bound {
            names: (!self.names.is_empty()).then_some(self.names),
            values: (!self.values.is_empty()).then_some(self.values),
        })
    }
}

/// What a transaction's update returns when its condition fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnFailure {
    /// Nothing: the caller needs only to know which action failed.
    Nothing,
    /// The item as it was, for the caller to read (a product's price and stock, an order's
    /// status).
    ReturnItem,
}

impl Expr {
    /// `update` of the item at `key` under `condition` (both built on this `Expr`), as one
    /// action of a transaction.
    pub(super) fn transact_update(
        self,
        table: &str,
        key: &super::keys::Key,
        update: String,
        condition: String,
        on_failure: OnFailure,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        use aws_sdk_dynamodb::types::{
            ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
        };
        let bound = self.done(&[&update, &condition])?;
        let mut builder = Update::builder()
            .table_name(table)
            .set_key(Some(key.item()?))
            .update_expression(update)
            .condition_expression(condition)
            .placeholders(bound);
        if on_failure == OnFailure::ReturnItem {
            builder = builder.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .update(build(builder.build())?)
            .build())
    }
}

impl Expr {
    /// `update` of the item at `key` under `condition` (both built on this `Expr`), as one
    /// `UpdateItem` of `client` on `table`, ready for the caller's return settings and send.
    pub(super) fn update_item(
        self,
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        key: &super::keys::Key,
        update: String,
        condition: String,
    ) -> Result<
        aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        StoreError,
    > {
        let bound = self.done(&[&update, &condition])?;
        Ok(client
            .update_item()
            .table_name(table)
            .set_key(Some(key.item()?))
            .update_expression(update)
            .condition_expression(condition)
            .placeholders(bound))
    }
}

/// `raw` as the tail of a placeholder: letters, digits and `_`.
fn token(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Every `#name` and `:value` placeholder in `expression`.
fn placeholders(expression: &str) -> impl Iterator<Item = &str> {
    let bytes = expression.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            at += 1;
            if bytes[start] == b'#' || bytes[start] == b':' {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                return Some(&expression[start..at]);
            }
        }
        None
    })
}

/// An SDK builder that takes expression placeholders.
pub(super) trait WithPlaceholders: Sized {
    fn placeholders(self, bound: Bound) -> Self;
}

macro_rules! with_placeholders {
    ($($builder:ty),* $(,)?) => {$(
        impl WithPlaceholders for $builder {
            fn placeholders(self, bound: Bound) -> Self {
                self.set_expression_attribute_names(bound.names)
                    .set_expression_attribute_values(bound.values)
            }
        }
    )*};
}

with_placeholders!(
    aws_sdk_dynamodb::types::builders::UpdateBuilder,
    aws_sdk_dynamodb::types::builders::PutBuilder,
    aws_sdk_dynamodb::types::builders::DeleteBuilder,
    aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
    aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder,
    aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
);

/// The condition expression of a precondition on the item's entity tag, its tags bound on `e`.
/// `require_item` adds `attribute_exists(PK)` so a failed check tells "missing" from "changed".
pub(super) fn condition_for(
    e: &mut Expr,
    precondition: &Precondition,
    require_item: bool,
) -> Option<String> {
    let exists = format!("attribute_exists({})", schema::PK);
    let mut tag_list = |tags: &[EntityTag]| -> String {
        if tags.is_empty() {
            // No tag can match (`If-Match` listing only weak tags): a condition that never holds,
            // since `IN ()` is not an expression DynamoDB accepts.
            return format!(
                "(attribute_not_exists({pk}) AND attribute_exists({pk}))",
                pk = schema::PK
            );
        }
        let values: Vec<String> = tags
            .iter()
            .map(|t| e.value("etag", s(t.as_str())))
            .collect();
        format!("{} IN ({})", schema::ETAG, values.join(", "))
    };
    Some(match precondition {
        Precondition::None if require_item => exists,
        Precondition::None => return None,
        Precondition::Exists => exists,
        Precondition::MatchesAny(tags) => format!("{exists} AND {}", tag_list(tags)),
        Precondition::Absent => format!("attribute_not_exists({})", schema::PK),
        Precondition::MatchesNone(tags) => {
            let list = tag_list(tags);
            if require_item {
                format!("{exists} AND NOT ({list})")
            } else {
                format!("(attribute_not_exists({}) OR NOT ({list}))", schema::PK)
            }
        }
    })
}

/// `expr` in parentheses, to be joined with `AND`, unless it already is wholly in one pair:
/// DynamoDB refuses `((…))` as redundant parentheses.
pub(super) fn group(expr: &str) -> String {
    let mut depth = 0usize;
    let wrapped = expr.starts_with('(')
        && expr.ends_with(')')
        && expr.char_indices().all(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            // The first pair may close only at the very end.
            depth > 0 || i == expr.len() - 1
        });
    if wrapped {
        expr.to_owned()
    } else {
        format!("({expr})")
    }
}

/// A number attribute.
pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// An SDK builder's result: a failure is a bug here (a required field left unset).
pub(super) fn build<T, E: std::error::Error + Send + Sync + 'static>(
    built: Result<T, E>,
) -> Result<T, StoreError> {
    built.map_err(|e| StoreError::Internal(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_declared_where_used_and_checked_when_done() {
        let mut e = Expr::new();
        let condition = format!("{} = {}", e.name("version"), e.value("version", n(3)));
        let update = format!(
            "SET {v} = {v} + {one}, {t} = {now}",
            v = e.name("version"),
            one = e.value("one", n(1)),
            t = e.name("updated_at"),
            now = e.value("version", s("then"))
        );
        assert_eq!(condition, "#version = :version");
        assert_eq!(
            update,
            "SET #version = #version + :one, #updated_at = :version1"
        );
        let bound = e.done(&[&condition, &update]).expect("all used");
        assert_eq!(bound.names.map(|n| n.len()), Some(2));
        assert_eq!(bound.values.map(|v| v.len()), Some(3));

        let mut unused = Expr::new();
        let condition = format!("attribute_exists({})", unused.name("PK"));
        unused.value("stale", n(1));
        let err = unused.done(&[&condition]).expect_err("unused");
        assert!(format!("{err:?}").contains(":stale"), "{err:?}");

        let mut missing = Expr::new();
        let condition = format!("{} = :typo", missing.name("price"));
        let err = missing.done(&[&condition]).expect_err("missing");
        assert!(format!("{err:?}").contains(":typo"), "{err:?}");

        let empty = Expr::new()
            .done(&["attribute_not_exists(PK)"])
            .expect("none");
        assert!(empty.names.is_none() && empty.values.is_none());
    }

    #[test]
    fn group_adds_parentheses_only_where_none_wrap_the_whole() {
        assert_eq!(group("a AND b"), "(a AND b)");
        assert_eq!(group("(a OR b)"), "(a OR b)");
        assert_eq!(group("(a) AND (b)"), "((a) AND (b))");
        assert_eq!(group("attribute_exists(PK)"), "(attribute_exists(PK))");
        assert_eq!(group("(a OR NOT (b))"), "(a OR NOT (b))");
    }
    #[test]
    fn conditions_name_the_tag_placeholders() {
        let tags = vec![
            EntityTag::from_stored("a".into()),
            EntityTag::from_stored("b".into()),
        ];
        let mut e = Expr::new();
        let expr =
            condition_for(&mut e, &Precondition::MatchesAny(tags), false).expect("a condition");
        assert_eq!(expr, "attribute_exists(PK) AND etag IN (:etag, :etag1)");
        let bound = e.done(&[&expr]).expect("every tag bound and used");
        let values = bound.values.expect("two tags");
        assert_eq!(values.get(":etag"), Some(&s("a")));
        assert_eq!(values.get(":etag1"), Some(&s("b")));
        let condition =
            |p: &Precondition, require: bool| condition_for(&mut Expr::new(), p, require);
        assert_eq!(
            condition(&Precondition::MatchesAny(vec![]), false).as_deref(),
            Some("attribute_exists(PK) AND (attribute_not_exists(PK) AND attribute_exists(PK))"),
            "an empty list is a condition that never holds, not `IN ()`"
        );
        assert_eq!(condition(&Precondition::None, false), None);
        assert_eq!(
            condition(&Precondition::None, true).as_deref(),
            Some("attribute_exists(PK)")
        );
        assert_eq!(
            condition(&Precondition::Absent, false).as_deref(),
            Some("attribute_not_exists(PK)")
        );
    }
}
