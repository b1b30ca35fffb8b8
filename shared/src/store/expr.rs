//! Expression building shared by the operations: preconditions on entity tags as condition
//! expressions, and attribute values.

use super::error::StoreError;
use super::schema;
use crate::domain::{EntityTag, Precondition};
use aws_sdk_dynamodb::types::AttributeValue;

/// Condition expression and its placeholders for a precondition on the item's entity tag.
/// `require_item` adds `attribute_exists(PK)` so a failed check tells "missing" from "changed".
pub(super) fn condition_for(
    precondition: &Precondition,
    require_item: bool,
) -> Option<(String, Vec<(String, String)>)> {
    let exists = format!("attribute_exists({})", schema::PK);
    let tag_list = |tags: &[EntityTag]| -> (String, Vec<(String, String)>) {
        if tags.is_empty() {
            // No tag can match (`If-Match` listing only weak tags): a condition that never holds,
            // since `IN ()` is not an expression DynamoDB accepts.
            let never = format!(
                "attribute_not_exists({pk}) AND attribute_exists({pk})",
                pk = schema::PK
            );
            return (format!("({never})"), vec![]);
        }
        let values: Vec<(String, String)> = tags
            .iter()
            .enumerate()
            .map(|(i, t)| (format!(":etag{i}"), t.as_str().to_owned()))
            .collect();
        let names = values
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        (format!("{} IN ({names})", schema::ETAG), values)
    };
    let (expr, values) = match precondition {
        Precondition::None if require_item => (exists, vec![]),
        Precondition::None => return None,
        Precondition::Exists => (exists, vec![]),
        Precondition::MatchesAny(tags) => {
            let (list, values) = tag_list(tags);
            (format!("{exists} AND {list}"), values)
        }
        Precondition::Absent => (format!("attribute_not_exists({})", schema::PK), vec![]),
        Precondition::MatchesNone(tags) => {
            let (list, values) = tag_list(tags);
            let base = format!("(attribute_not_exists({}) OR NOT ({list}))", schema::PK);
            if require_item {
                (format!("{exists} AND NOT ({list})"), values)
            } else {
                (base, values)
            }
        }
    };
    Some((expr, values))
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
    fn group_adds_parentheses_only_where_none_wrap_the_whole() {
        assert_eq!(group("a AND b"), "(a AND b)");
        assert_eq!(group("(a OR b)"), "(a OR b)");
        assert_eq!(group("(a) AND (b)"), "((a) AND (b))");
        assert_eq!(group("attribute_exists(PK)"), "(attribute_exists(PK))");
        assert_eq!(group("(a OR NOT (b))"), "(a OR NOT (b))");
    }
    use crate::domain::EntityTag;

    #[test]
    fn conditions_name_the_tag_placeholders() {
        let tags = vec![
            EntityTag::from_stored("a".into()),
            EntityTag::from_stored("b".into()),
        ];
        let (expr, values) =
            condition_for(&Precondition::MatchesAny(tags), false).expect("a condition");
        assert_eq!(expr, "attribute_exists(PK) AND etag IN (:etag0, :etag1)");
        assert_eq!(
            values,
            vec![
                (":etag0".to_owned(), "a".to_owned()),
                (":etag1".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(
            condition_for(&Precondition::MatchesAny(vec![]), false),
            Some((
                "attribute_exists(PK) AND (attribute_not_exists(PK) AND attribute_exists(PK))"
                    .to_owned(),
                vec![]
            )),
            "an empty list is a condition that never holds, not `IN ()`"
        );
        assert_eq!(condition_for(&Precondition::None, false), None);
        assert_eq!(
            condition_for(&Precondition::None, true)
                .map(|c| c.0)
                .as_deref(),
            Some("attribute_exists(PK)")
        );
        assert_eq!(
            condition_for(&Precondition::Absent, false)
                .map(|c| c.0)
                .as_deref(),
            Some("attribute_not_exists(PK)")
        );
    }
}
