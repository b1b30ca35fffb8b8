//! Paging: how a query asks for one page, and how its answer says whether more follow.

use super::error::StoreError;
use super::keys::Item;

/// One page from a query that asked for `limit + 1` items: the first `limit`, and whether more
/// follow. DynamoDB may also stop early at 1 MB (then it names where to resume): then more may
/// follow too, and the next page starts after the last item returned. Either way the client is
/// never handed a cursor that leads to an empty page for the `limit + 1` reason.
pub(super) fn page_of<T>(
    items: Option<Vec<Item>>,
    stopped_early: bool,
    limit: usize,
    map: impl Fn(Item) -> Result<T, StoreError>,
) -> Result<(Vec<T>, bool), StoreError> {
    let mut items = items
        .unwrap_or_default()
        .into_iter()
        .map(map)
        .collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > limit || (stopped_early && !items.is_empty());
    items.truncate(limit);
    Ok((items, more))
}

/// How many items a page query asks for: one more than the page, to learn whether more follow.
pub(super) fn page_fetch(limit: usize) -> i32 {
    i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX)
}
