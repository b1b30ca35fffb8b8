//! DynamoDB's transaction isolation, as a model in front of an engine that serializes every
//! request (dynoxide does, and so does AWS's own DynamoDB Local): without it, no test here could
//! meet the conflicts DynamoDB itself answers with.
//!
//! The model (DynamoDB developer guide, "Transaction conflict handling"):
//! - A `TransactWriteItems` holds each of its items (`Put`, `Update`, `Delete` and
//!   `ConditionCheck` alike) from the moment it is accepted until the engine has answered it:
//!   the engine's own time, plus a configurable [`Isolation::hold`] that stands for the
//!   two-phase commit DynamoDB runs across partitions.
//! - Meanwhile a `PutItem`, `UpdateItem` or `DeleteItem` of a held item is refused with
//!   `TransactionConflictException` (HTTP 400, which the AWS SDKs do not retry by themselves).
//! - Another transaction that touches a held item is cancelled
//!   (`TransactionCanceledException`) with reason `TransactionConflict` at that item's index
//!   and `None` at every other.
//! - Reads are never blocked: they see the last committed data.
//! - A transaction sent again with the `ClientRequestToken` of one still in flight (the SDK's
//!   resend after its attempt timeout) is answered `TransactionInProgressException`.
//! - An admitted transaction runs to its end even when its client stops waiting
//!   (`devkit::proxy` runs it in its own task).
//!
//! Not modelled: a `BatchWriteItem` (this shop sends none) and `TransactGetItems` (nor that).

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the model refused, for reports and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Transactions admitted (and so holding their items for a while).
    pub transactions: usize,
    /// Single-item writes refused with `TransactionConflictException`.
    pub write_conflicts: usize,
    /// Transactions cancelled with `TransactionConflict`.
    pub transaction_conflicts: usize,
}

/// The isolation model: share one between every path to one engine.
#[derive(Debug)]
pub struct Isolation {
    hold: Duration,
    /// Items (table, key) held by transactions in flight, with how many hold each (a retry of a
    /// transaction by the SDK may overlap its first attempt).
    held: Mutex<HashMap<String, usize>>,
    /// The `ClientRequestToken`s of the transactions in flight.
    tokens: Mutex<std::collections::HashSet<String>>,
    counters: Mutex<Counters>,
}

/// What to do with one request.
pub enum Admission {
    /// Forward it to the engine; a transaction's items stay held until this is dropped (after
    /// the engine answered), and it first waits [`Isolation::hold`].
    Forward(Option<Holding>),
    /// Answer with this DynamoDB error instead: (HTTP status, JSON body).
    Refuse(u16, String),
}

/// The items of one admitted transaction; free again when dropped.
#[must_use = "the items are released when this is dropped"]
pub struct Holding {
    isolation: Arc<Isolation>,
    items: Vec<String>,
    token: Option<String>,
}

impl Holding {
    /// How long the transaction keeps its items before the engine sees it.
    pub fn hold(&self) -> Duration {
        self.isolation.hold
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            self.isolation
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(token);
        }
        let mut held = self.isolation.held();
        for item in &self.items {
            if let Some(n) = held.get_mut(item) {
                *n -= 1;
                if *n == 0 {
                    held.remove(item);
                }
            }
        }
    }
}

/// The DynamoDB error body for `kind` (e.g. `TransactionConflictException`).
fn error_body(kind: &str, message: &str) -> String {
    json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": message,
    })
    .to_string()
}

/// The identity of the item a write names: its table and its key attributes.
fn item_id(table: &Value, key: &Value) -> String {
    let pk = &key[shared::store::schema::PK];
    let sk = &key[shared::store::schema::SK];
    format!("{}|{pk}|{sk}", table.as_str().unwrap_or_default())
}

/// The item a single-item write or one action of a transaction names.
fn target(action: &Value) -> String {
    let key = action.get("Key").or_else(|| action.get("Item"));
    item_id(&action["TableName"], key.unwrap_or(&Value::Null))
}

impl Isolation {
    /// A model whose transactions hold their items for `hold` more than the engine takes.
    pub fn new(hold: Duration) -> Arc<Self> {
        Arc::new(Self {
            hold,
            held: Mutex::new(HashMap::new()),
            tokens: Mutex::new(std::collections::HashSet::new()),
            counters: Mutex::new(Counters::default()),
        })
    }

    pub fn hold(&self) -> Duration {
        self.hold
    }

    pub fn counters(&self) -> Counters {
        *self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many items transactions hold right now.
    pub fn holding(&self) -> usize {
        self.held().len()
    }

    /// Waits (polling, up to 10 s) until transactions hold at least `items` items; `false` when
    /// they never did.
    pub async fn until_holding(&self, items: usize) -> bool {
        for _ in 0..10_000 {
            if self.holding() >= items {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        false
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, change: impl FnOnce(&mut Counters)) {
        change(&mut self.counters.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Decides what to do with one request: `operation` from `X-Amz-Target` (e.g. `PutItem`),
    /// `body` its JSON.
    pub fn admit(self: &Arc<Self>, operation: &str, body: &Value) -> Admission {
        match operation {
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                if self.held().contains_key(&target(body)) {
                    self.count(|c| c.write_conflicts += 1);
                    return Admission::Refuse(
                        400,
                        error_body(
                            "TransactionConflictException",
                            "Transaction is ongoing for the item",
                        ),
                    );
                }
                Admission::Forward(None)
            }
            "TransactWriteItems" => self.admit_transaction(body),
            _ => Admission::Forward(None),
        }
    }

    fn admit_transaction(self: &Arc<Self>, body: &Value) -> Admission {
        let items: Vec<String> = body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|action| action.as_object()?.values().next())
            .map(target)
            .collect();
        let token = body["ClientRequestToken"].as_str().map(str::to_owned);
        if let Some(token) = &token {
            let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
            if !tokens.insert(token.clone()) {
                return Admission::Refuse(
                    400,
                    error_body(
                        "TransactionInProgressException",
                        "Request with the same client token is already in progress",
                    ),
                );
            }
        }
        let release_token = |token: &Option<String>| {
            if let Some(token) = token {
                self.tokens
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(token);
            }
        };
        let mut held = self.held();
        if items.iter().any(|i| held.contains_key(i)) {
            let reasons: Vec<Value> = items
                .iter()
                .map(|i| {
                    if held.contains_key(i) {
                        json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
                    } else {
                        json!({"Code": "None"})
                    }
                })
                .collect();
            drop(held);
            release_token(&token);
            self.count(|c| c.transaction_conflicts += 1);
            return Admission::Refuse(400, cancelled(&reasons));
        }
        for item in &items {
            *held.entry(item.clone()).or_default() += 1;
        }
        drop(held);
        self.count(|c| c.transactions += 1);
        Admission::Forward(Some(Holding {
            isolation: Arc::clone(self),
            items,
            token,
        }))
    }
}

/// A `TransactionCanceledException` body with these per-item reasons.
pub fn cancelled(reasons: &[Value]) -> String {
    let codes: Vec<&str> = reasons.iter().filter_map(|r| r["Code"].as_str()).collect();
    json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
        "CancellationReasons": reasons,
    })
    .to_string()
}

/// Whether an engine's answer (or the model's) is a conflict with a transaction in flight, of
/// either kind: for the chaos run's fault log, which must explain every 503.
pub fn is_conflict(status: u16, body: &[u8]) -> bool {
    status == 400 && {
        let text = String::from_utf8_lossy(body);
        text.contains("TransactionConflict")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(pk: &str) -> Value {
        json!({"TableName": "t", "Key": {"PK": {"S": pk}, "SK": {"S": "X"}}, "UpdateExpression": "SET a = :a"})
    }

    fn transaction(pks: &[&str]) -> Value {
        let items: Vec<Value> = pks.iter().map(|pk| json!({"Update": update(pk)})).collect();
        json!({"TransactItems": items})
    }

    #[test]
    fn a_held_item_refuses_writes_and_cancels_transactions_at_its_index() {
        let isolation = Isolation::new(Duration::ZERO);
        let Admission::Forward(Some(first)) =
            isolation.admit("TransactWriteItems", &transaction(&["a", "b"]))
        else {
            panic!("the first transaction is admitted");
        };
        match isolation.admit("UpdateItem", &update("b")) {
            Admission::Refuse(400, body) => {
                assert!(body.contains("#TransactionConflictException"), "{body}")
            }
            _ => panic!("a write to a held item conflicts"),
        }
        assert!(matches!(
            isolation.admit("UpdateItem", &update("c")),
            Admission::Forward(None)
        ));
        assert!(matches!(
            isolation.admit("GetItem", &update("a")),
            Admission::Forward(None)
        ));
        match isolation.admit("TransactWriteItems", &transaction(&["c", "a", "d"])) {
            Admission::Refuse(400, body) => {
                let body: Value = serde_json::from_str(&body).expect("JSON");
                let codes: Vec<&str> = body["CancellationReasons"]
                    .as_array()
                    .expect("reasons")
                    .iter()
                    .map(|r| r["Code"].as_str().expect("a code"))
                    .collect();
                assert_eq!(codes, ["None", "TransactionConflict", "None"]);
            }
            _ => panic!("a transaction meeting a held item is cancelled"),
        }
        assert_eq!(isolation.holding(), 2);
        drop(first);
        assert_eq!(isolation.holding(), 0);
        assert!(matches!(
            isolation.admit("PutItem", &json!({"TableName": "t", "Item": {"PK": {"S": "a"}, "SK": {"S": "X"}, "n": {"N": "1"}}})),
            Admission::Forward(None)
        ));
        assert_eq!(
            isolation.counters(),
            Counters {
                transactions: 1,
                write_conflicts: 1,
                transaction_conflicts: 1
            }
        );
    }

    #[test]
    fn a_resend_of_a_transaction_in_flight_is_in_progress() {
        let isolation = Isolation::new(Duration::ZERO);
        let mut first = transaction(&["a"]);
        first["ClientRequestToken"] = json!("token-1");
        let held = isolation.admit("TransactWriteItems", &first);
        assert!(matches!(held, Admission::Forward(Some(_))));
        match isolation.admit("TransactWriteItems", &first) {
            Admission::Refuse(400, body) => {
                assert!(body.contains("#TransactionInProgressException"), "{body}")
            }
            _ => panic!("the resend is in progress"),
        }
        drop(held);
        assert!(matches!(
            isolation.admit("TransactWriteItems", &first),
            Admission::Forward(Some(_))
        ));
    }

    #[test]
    fn items_of_other_tables_do_not_meet() {
        let isolation = Isolation::new(Duration::ZERO);
        let _held = isolation.admit("TransactWriteItems", &transaction(&["a"]));
        let mut other = update("a");
        other["TableName"] = json!("u");
        assert!(matches!(
            isolation.admit("DeleteItem", &other),
            Admission::Forward(None)
        ));
    }
}
