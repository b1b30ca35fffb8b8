//! Checks a run's recorded history against the final table. Every rule names the requests that
//! break it.

use crate::load::Record;
use crate::proxy::{Fault, FaultKind};
use devkit::audit::UserAudit;
use serde_json::Value;
use shared::domain::OrderStatus;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// The table at the end of a run.
pub struct FinalState {
    /// Each product's stock as the API shows it (the sum of its buckets).
    pub stock: BTreeMap<String, i64>,
    /// Each product's split and the items that hold its stock, read straight from the table:
    /// `(stock_buckets, [(bucket, stock)])` (see `devkit::audit::stock_items`).
    pub buckets: BTreeMap<String, (u32, Vec<(usize, i64)>)>,
    pub users: HashMap<String, UserAudit>,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub rule: &'static str,
    pub detail: String,
    pub requests: Vec<usize>,
}

/// Slack around a request's time window when matching it to a fault (timestamps are taken in
/// different tasks).
const SLACK: Duration = Duration::from_millis(250);

pub fn check(
    records: &[Record],
    initial: &BTreeMap<String, i64>,
    state: &FinalState,
    faults: &[Fault],
) -> Vec<Violation> {
    let mut v = Vec::new();
    well_formed(records, &mut v);
    server_errors_explained(records, faults, &mut v);
    orders_once(records, state, &mut v);
    stock_conserved(records, initial, state, &mut v);
    buckets_sound(state, &mut v);
    own_data_only(records, state, &mut v);
    v
}

fn violation(v: &mut Vec<Violation>, rule: &'static str, detail: String, requests: Vec<usize>) {
    v.push(Violation {
        rule,
        detail,
        requests,
    });
}

/// Every response is a well-formed success (JSON, or empty for 204/304) or a problem document;
/// 502 and 504 come from the front door (API Gateway's JSON `message`); nothing is ever a 500.
fn well_formed(records: &[Record], v: &mut Vec<Violation>) {
    for r in records {
        let Some(status) = r.status else { continue };
        let ok = match status {
            204 | 304 => r.raw_body.is_empty(),
            200..=299 => r.content_type.starts_with("application/json") && r.body.is_some(),
            400..=499 | 503 => {
                r.content_type == "application/problem+json"
                    && r.body.as_ref().and_then(|b| b["status"].as_u64()) == Some(u64::from(status))
                    && r.body.as_ref().and_then(|b| b["type"].as_str()).is_some()
            }
            502 | 504 => r.body.as_ref().is_some_and(|b| b["message"].is_string()),
            _ => false,
        };
        if !ok {
            violation(
                v,
                "well-formed responses",
                format!(
                    "{} {} → {status} {:?}: {}",
                    r.method, r.path, r.content_type, r.raw_body
                ),
                vec![r.id],
            );
        }
    }
}

/// Every 5xx is accounted for by a fault injected into the instance that served it, during the
/// request: a 502 by a kill, a 503 by a DynamoDB fault (throttling, 5xx, a dropped connection).
fn server_errors_explained(records: &[Record], faults: &[Fault], v: &mut Vec<Violation>) {
    for r in records {
        let Some(status) = r.status.filter(|s| *s >= 500) else {
            continue;
        };
        let served = r
            .served_by
            .as_deref()
            .and_then(|s| s.rsplit_once('#'))
            .and_then(|(f, slot)| Some((f, slot.parse::<usize>().ok()?)));
        let explained = served.is_some_and(|(function, slot)| {
            faults.iter().any(|f| {
                let kinds_fit = match status {
                    502 => matches!(
                        f.kind,
                        FaultKind::RandomKill
                            | FaultKind::KillAfterCommit
                            | FaultKind::KillMidRequest
                    ),
                    503 => matches!(
                        f.kind,
                        FaultKind::Throttle
                            | FaultKind::Conflict
                            | FaultKind::ServerError
                            | FaultKind::DropBefore
                            | FaultKind::DropAfter
                    ),
                    _ => false,
                };
                kinds_fit
                    && f.function == function
                    && f.slot == slot
                    && f.at + SLACK >= r.started
                    && f.at <= r.finished + SLACK
            })
        });
        if !explained {
            violation(
                v,
                "every 5xx accounted for by a fault",
                format!(
                    "{} {} → {status}, served by {:?}",
                    r.method, r.path, r.served_by
                ),
                vec![r.id],
            );
        }
    }
}

fn order_id(body: &Option<Value>) -> Option<String> {
    body.as_ref()
        .and_then(|b| b["id"].as_str())
        .map(str::to_owned)
}

/// Every acknowledged order exists exactly once; no idempotency key produced two orders; every
/// order was written with its key's record (in one transaction) and no record names a missing
/// order; every acknowledged cancel left the order cancelled.
fn orders_once(records: &[Record], state: &FinalState, v: &mut Vec<Violation>) {
    // Per user and key, the order ids clients were told (201s, first answers and replays).
    let mut acked: BTreeMap<(String, String), (HashSet<String>, Vec<usize>)> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/orders" && r.status == Some(201))
    {
        let (Some(key), Some(id)) = (r.key.clone(), order_id(&r.body)) else {
            violation(
                v,
                "acknowledged orders exist exactly once",
                "a 201 without an order id".into(),
                vec![r.id],
            );
            continue;
        };
        let entry = acked.entry((r.user.clone(), key)).or_default();
        entry.0.insert(id);
        entry.1.push(r.id);
    }
    for ((user, key), (ids, requests)) in &acked {
        if ids.len() > 1 {
            violation(
                v,
                "one order per idempotency key",
                format!("{user}'s key {key} answered with orders {ids:?}"),
                requests.clone(),
            );
        }
        let audit = state.users.get(user);
        for id in ids {
            let copies = audit.map_or(0, |a| a.orders.iter().filter(|o| &o.id == id).count());
            if copies != 1 {
                violation(
                    v,
                    "acknowledged orders exist exactly once",
                    format!("{user}'s order {id} is in the table {copies} times"),
                    requests.clone(),
                );
            }
            let recorded = audit
                .and_then(|a| a.keys.iter().find(|(k, _)| k == key))
                .and_then(|(_, o)| o.clone());
            if recorded.as_deref() != Some(id.as_str()) {
                violation(
                    v,
                    "one order per idempotency key",
                    format!(
                        "{user}'s key {key} is recorded for {recorded:?}, the client was told {id}"
                    ),
                    requests.clone(),
                );
            }
        }
    }
    for (user, audit) in &state.users {
        let mut named: HashMap<&str, usize> = HashMap::new();
        for (_, order) in &audit.keys {
            if let Some(order) = order {
                *named.entry(order.as_str()).or_default() += 1;
            }
        }
        for order in &audit.orders {
            match named.get(order.id.as_str()) {
                Some(1) => {}
                n => violation(
                    v,
                    "one order per idempotency key",
                    format!(
                        "{user}'s order {} is named by {} key records",
                        order.id,
                        n.copied().unwrap_or(0)
                    ),
                    vec![],
                ),
            }
        }
        for (key, order) in &audit.keys {
            if let Some(order) = order
                && !audit.orders.iter().any(|o| &o.id == order)
            {
                violation(
                    v,
                    "acknowledged orders exist exactly once",
                    format!("{user}'s key {key} names order {order}, which is not in the table"),
                    vec![],
                );
            }
        }
    }
    for r in records
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/cancel") && r.status == Some(200))
    {
        let id = r
            .path
            .trim_start_matches("/orders/")
            .trim_end_matches("/cancel");
        let cancelled = state
            .users
            .get(&r.user)
            .and_then(|a| a.orders.iter().find(|o| o.id == id))
            .is_some_and(|o| o.status == OrderStatus::Cancelled);
        if !cancelled {
            violation(
                v,
                "acknowledged cancels stick",
                format!(
                    "{}'s order {id} was acknowledged as cancelled but is not",
                    r.user
                ),
                vec![r.id],
            );
        }
    }
}

/// A product split into K buckets has exactly buckets 0 to K-1, none below 0, and they sum to the
/// stock the API shows: no unit was drawn from a bucket that should not exist, and none was lost
/// between the items.
fn buckets_sound(state: &FinalState, v: &mut Vec<Violation>) {
    for (product, (spread, held)) in &state.buckets {
        let expected: Vec<usize> = (0..*spread as usize).collect();
        let found: Vec<usize> = held.iter().map(|(b, _)| *b).collect();
        if found != expected {
            violation(
                v,
                "buckets within the split",
                format!("{product}: split over {spread}, items for buckets {found:?}"),
                vec![],
            );
        }
        for (bucket, stock) in held.iter().filter(|(_, s)| *s < 0) {
            violation(
                v,
                "stock never negative",
                format!("{product}: bucket {bucket} holds {stock}"),
                vec![],
            );
        }
        let sum: i64 = held.iter().map(|(_, s)| s).sum();
        // A deleted product (an admin's delete mid-sale) leaves no item behind.
        let gone = !state.stock.contains_key(product) && held.is_empty();
        if !gone && state.stock.get(product) != Some(&sum) {
            violation(
                v,
                "buckets sum to the stock shown",
                format!(
                    "{product}: buckets hold {sum}, the API shows {:?}",
                    state.stock.get(product)
                ),
                vec![],
            );
        }
    }
}

/// Initial stock = current stock + quantities of orders still placed (a cancelled order gave its
/// stock back); stock is never negative, at the end or in any answer.
fn stock_conserved(
    records: &[Record],
    initial: &BTreeMap<String, i64>,
    state: &FinalState,
    v: &mut Vec<Violation>,
) {
    let mut placed: BTreeMap<&str, i64> = BTreeMap::new();
    for audit in state.users.values() {
        for order in audit
            .orders
            .iter()
            .filter(|o| o.status == OrderStatus::Placed)
        {
            for line in &order.items {
                *placed.entry(line.product_id.as_str()).or_default() += i64::from(line.quantity);
            }
        }
    }
    for (product, &start) in initial {
        let now = state.stock.get(product).copied().unwrap_or(i64::MIN);
        let sold = placed.get(product.as_str()).copied().unwrap_or(0);
        if start != now + sold {
            violation(
                v,
                "stock conserved",
                format!("{product}: initial {start} ≠ current {now} + placed {sold}"),
                vec![],
            );
        }
        if now < 0 {
            violation(
                v,
                "stock never negative",
                format!("{product}: {now} at the end"),
                vec![],
            );
        }
    }
    for r in records
        .iter()
        .filter(|r| r.status == Some(200) && r.path.starts_with("/products"))
    {
        let mut seen = Vec::new();
        if let Some(body) = &r.body {
            seen.push(&body["stock"]);
            seen.extend(
                body["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| &p["stock"]),
            );
        }
        if seen.iter().any(|s| s.as_i64().is_some_and(|n| n < 0)) {
            violation(
                v,
                "stock never negative",
                format!("{} answered a negative stock", r.path),
                vec![r.id],
            );
        }
    }
}

/// No user ever received another user's data: every order in an answer to a user is theirs.
fn own_data_only(records: &[Record], state: &FinalState, v: &mut Vec<Violation>) {
    for r in records.iter().filter(|r| {
        r.path.starts_with("/orders") && r.status.is_some_and(|s| (200..300).contains(&s))
    }) {
        let Some(body) = &r.body else { continue };
        let mut ids: Vec<&str> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["id"].as_str())
            .collect();
        if let Some(id) = body["id"].as_str() {
            ids.push(id);
        }
        let own = state.users.get(&r.user);
        for id in ids {
            if !own.is_some_and(|a| a.orders.iter().any(|o| o.id == id)) {
                violation(
                    v,
                    "no user sees another's data",
                    format!("{} received order {id}, which is not theirs", r.user),
                    vec![r.id],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn answered(status: u16, body: Value) -> Record {
        let now = Instant::now();
        Record {
            id: 1,
            user: "shopper-000".into(),
            method: "PUT".into(),
            path: "/cart/items/mug".into(),
            key: None,
            started: now,
            finished: now,
            status: Some(status),
            error: None,
            content_type: "application/problem+json".into(),
            served_by: Some("put-cart-item#0".into()),
            raw_body: body.to_string(),
            body: Some(body),
        }
    }

    /// A 500 is a violation whatever explains it: a conflict with a transaction in flight, or any
    /// other fault, must be retried or answered 503, never surface as an internal error.
    #[test]
    fn any_500_is_a_violation_even_next_to_a_fault() {
        let record = answered(
            500,
            serde_json::json!({"type": "x:internal", "status": 500}),
        );
        let conflict = Fault {
            kind: FaultKind::Conflict,
            function: "put-cart-item".into(),
            slot: 0,
            at: record.started,
        };
        let mut v = Vec::new();
        well_formed(std::slice::from_ref(&record), &mut v);
        server_errors_explained(
            std::slice::from_ref(&record),
            std::slice::from_ref(&conflict),
            &mut v,
        );
        assert_eq!(v.len(), 2, "{v:?}");

        // The same conflict explains a 503.
        let unavailable = answered(
            503,
            serde_json::json!({"type": "x:unavailable", "status": 503}),
        );
        let mut v = Vec::new();
        well_formed(std::slice::from_ref(&unavailable), &mut v);
        server_errors_explained(std::slice::from_ref(&unavailable), &[conflict], &mut v);
        assert!(v.is_empty(), "{v:?}");
    }
}
