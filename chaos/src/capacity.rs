//! DynamoDB's capacity, simulated in front of the engine (which has no limits of its own): token
//! buckets per partition key of the table and of the index, metered in read and write units by item
//! size as DynamoDB meters them. Conflicts with a transaction in flight are not modelled here but
//! by the engine's own front (`devkit::isolation`), which every chaos run puts in the path.
//!
//! The model, and where it simplifies:
//! - Each partition key gets [`Limits`] per second (DynamoDB: 3,000 read and 1,000 write units per
//!   partition, scaled down by `--capacity-scale` so this machine can reach them), as a bucket that
//!   holds one second of units. DynamoDB may split a key's range for heat over time; a sudden sale
//!   meets it whole, which is what this models.
//! - Units: a write is 1 unit per KB of the item (rounded up), a read 1 unit per 4 KB (half for an
//!   eventually consistent read); transactional writes cost double. An item's size is the sum of
//!   its attribute names and values (strings by UTF-8 length, numbers by digit pairs). A write of
//!   an `UpdateItem` is sized by its key and the values it writes: the model does not know the rest
//!   of the item, so a large item's updates are under-counted (this shop's products and carts stay
//!   near 1 KB).
//! - The index: a write that sets `GSI1PK` also writes the index partition of that value. With the
//!   keys-only projection nothing else does (a stock change writes no index).
//! - Reads are admitted while their partition's bucket is not empty and charged when the answer is
//!   known (a `Query`'s units depend on what it returns), so a partition may go briefly into debt.
//! - Over a limit: the `ThrottlingException` DynamoDB returns (with its `ThrottlingReasons`); a
//!   `BatchGetItem` gets its throttled keys back as `UnprocessedKeys`, as DynamoDB does; a
//!   transaction is cancelled with `ThrottlingError` for the item that was over.
//! - Simplified: a key a batch does not find costs nothing; every catalog `PUT` is charged an index write (it sets `GSI1PK`), a delete none.

use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Units per second one partition key may consume.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub read: f64,
    pub write: f64,
}

impl Limits {
    /// DynamoDB's per-partition limits times `scale`.
    pub fn dynamodb(scale: f64) -> Self {
        Self {
            read: 3000.0 * scale,
            write: 1000.0 * scale,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    read: f64,
    write: f64,
    at: Instant,
}

/// What the model saw, for the report.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub throttled: usize,
    /// Write units per partition key.
    pub writes_by_partition: HashMap<String, f64>,
}

/// The capacity model shared by every proxy of a run.
pub struct Capacity {
    limits: Limits,
    buckets: Mutex<HashMap<String, Bucket>>,
    counters: Mutex<Counters>,
}

/// What to do with one request.
pub enum Admission {
    /// Forward it; `charge` is applied to the answer.
    Forward {
        charge: Charge,
        body: Option<Vec<u8>>,
        unprocessed: Option<Value>,
    },
    /// Answer with this DynamoDB error instead (status, body).
    Refuse(u16, String),
}

/// Units still to charge once the answer is known (reads sized by what came back).
pub struct Charge {
    reads: Option<ReadCharge>,
}

struct ReadCharge {
    /// The partition charged for each returned item, or `by_item` to find it from the item.
    partition: Option<String>,
    consistent: bool,
}

/// The size DynamoDB bills for one attribute value, in bytes.
fn value_size(value: &Value) -> usize {
    let Some(obj) = value.as_object() else {
        return 0;
    };
    let Some((kind, inner)) = obj.iter().next() else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, |n| {
            let digits = n.chars().filter(char::is_ascii_digit).count();
            digits.div_ceil(2) + 1
        }),
        "B" => inner.as_str().map_or(0, |b| b.len() * 3 / 4),
        "BOOL" | "NULL" => 1,
        "M" => 3 + inner.as_object().map_or(0, item_size) + inner.as_object().map_or(0, Map::len),
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |l| l.iter().map(|v| value_size(v) + 1).sum())
        }
        "SS" | "NS" | "BS" => inner.as_array().map_or(0, |l| {
            l.iter().map(|v| v.as_str().map_or(0, str::len)).sum()
        }),
        _ => 0,
    }
}

/// The size DynamoDB bills for an item (or key): names and values.
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_size(v))
        .sum()
}

fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

fn string_of(item: &Value, attribute: &str) -> Option<String> {
    item.get(attribute)?.get("S")?.as_str().map(str::to_owned)
}

/// The partition key of the listing index for `value` (its `GSI1PK`).
pub fn index_partition(value: &str) -> String {
    format!("{}#{value}", shared::store::schema::LISTING_INDEX)
}

/// Whether a partition key is one of the index's.
pub fn is_index(pk: &str) -> bool {
    pk.starts_with(&format!("{}#", shared::store::schema::LISTING_INDEX))
}

/// One write's partition charges: the table's, and the index's when it sets `GSI1PK`.
fn write_charges(action: &Value, transactional: bool, out: &mut Vec<(String, f64)>) {
    let factor = if transactional { 2.0 } else { 1.0 };
    let key = action.get("Key").or_else(|| action.get("Item"));
    let Some(key) = key else { return };
    let pk = string_of(key, "PK").unwrap_or_default();
    let mut bytes = key.as_object().map_or(0, item_size);
    if action.get("Item").is_none()
        && let Some(values) = action
            .get("ExpressionAttributeValues")
            .and_then(Value::as_object)
    {
        bytes += item_size(values);
    }
    out.push((pk, write_units(bytes) * factor));
    // Does it write an index key? Either in the item, or as a name the update sets.
    let sets_index = key.get("GSI1PK").is_some()
        || action
            .get("ExpressionAttributeNames")
            .and_then(Value::as_object)
            .is_some_and(|names| names.values().any(|n| n == "GSI1PK"));
    if sets_index {
        let value = string_of(key, "GSI1PK").unwrap_or_else(|| "PRODUCTS".to_owned());
        out.push((index_partition(&value), write_units(64) * factor));
    }
}

impl Capacity {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
            counters: Mutex::new(Counters::default()),
        }
    }

    pub fn counters(&self) -> Counters {
        self.counters.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count_throttle(&self) {
        if let Ok(mut c) = self.counters.lock() {
            c.throttled += 1;
        }
    }

    /// Takes `writes` (partition, units) and admits `reads` (partitions) all at once, or none:
    /// returns the first partition over its limit.
    fn take(&self, writes: &[(String, f64)], reads: &[String]) -> Result<(), String> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let limits = self.limits;
        let mut refill = |pk: &str| {
            let bucket = buckets.entry(pk.to_owned()).or_insert(Bucket {
                read: limits.read,
                write: limits.write,
                at: now,
            });
            let elapsed = now.duration_since(bucket.at).as_secs_f64();
            bucket.read = (bucket.read + elapsed * limits.read).min(limits.read);
            bucket.write = (bucket.write + elapsed * limits.write).min(limits.write);
            bucket.at = now;
        };
        for (pk, _) in writes {
            refill(pk);
        }
        for pk in reads {
            refill(pk);
        }
        let mut needed: HashMap<&str, f64> = HashMap::new();
        for (pk, units) in writes {
            *needed.entry(pk).or_default() += units;
        }
        for (pk, units) in &needed {
            if buckets.get(*pk).is_some_and(|b| b.write < *units) {
                return Err((*pk).to_owned());
            }
        }
        for pk in reads {
            if buckets.get(pk).is_some_and(|b| b.read <= 0.0) {
                return Err(pk.clone());
            }
        }
        for (pk, units) in &needed {
            if let Some(b) = buckets.get_mut(*pk) {
                b.write -= units;
            }
        }
        drop(buckets);
        if let Ok(mut c) = self.counters.lock() {
            for (pk, units) in &needed {
                *c.writes_by_partition.entry((*pk).to_owned()).or_default() += units;
            }
        }
        Ok(())
    }

    fn charge_read(&self, pk: &str, units: f64) {
        if let Ok(mut buckets) = self.buckets.lock()
            && let Some(b) = buckets.get_mut(pk)
        {
            b.read -= units;
        }
    }

    /// Decides what to do with one request (`target` is the operation, e.g. `GetItem`).
    pub fn admit(&self, target: &str, body: &[u8]) -> Admission {
        let forward = |reads: Option<ReadCharge>| Admission::Forward {
            charge: Charge { reads },
            body: None,
            unprocessed: None,
        };
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return forward(None);
        };
        let consistent = request["ConsistentRead"].as_bool().unwrap_or(false);
        match target {
            "GetItem" => {
                let pk = string_of(&request["Key"], "PK").unwrap_or_default();
                match self.take(&[], std::slice::from_ref(&pk)) {
                    Ok(()) => forward(Some(ReadCharge {
                        partition: Some(pk),
                        consistent,
                    })),
                    Err(pk) => self.throttle("Table", "Read", &pk),
                }
            }
            "Query" => {
                let index = request["IndexName"].as_str();
                let value = request["ExpressionAttributeValues"]
                    .as_object()
                    .and_then(|v| v.values().next())
                    .and_then(|v| v["S"].as_str())
                    .unwrap_or_default();
                let pk = match index {
                    Some(index) => format!("{index}#{value}"),
                    None => value.to_owned(),
                };
                match self.take(&[], std::slice::from_ref(&pk)) {
                    Ok(()) => forward(Some(ReadCharge {
                        partition: Some(pk),
                        consistent,
                    })),
                    Err(pk) => {
                        self.throttle(if index.is_some() { "Index" } else { "Table" }, "Read", &pk)
                    }
                }
            }
            "BatchGetItem" => self.admit_batch_get(request),
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                let mut writes = Vec::new();
                write_charges(&request, false, &mut writes);
                match self.take(&writes, &[]) {
                    Ok(()) => forward(None),
                    Err(pk) => {
                        self.throttle(if is_index(&pk) { "Index" } else { "Table" }, "Write", &pk)
                    }
                }
            }
            "TransactWriteItems" => self.admit_transaction(&request),
            _ => forward(None),
        }
    }

    fn admit_transaction(&self, request: &Value) -> Admission {
        let actions = request["TransactItems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let bodies: Vec<&Value> = actions
            .iter()
            .filter_map(|a| a.as_object()?.values().next())
            .collect();
        let mut writes = Vec::new();
        for body in &bodies {
            write_charges(body, true, &mut writes);
        }
        match self.take(&writes, &[]) {
            Ok(()) => Admission::Forward {
                charge: Charge { reads: None },
                body: None,
                unprocessed: None,
            },
            Err(pk) => {
                self.count_throttle();
                let reasons: Vec<Value> = bodies
                    .iter()
                    .map(|b| {
                        let key = b.get("Key").or_else(|| b.get("Item")).unwrap_or(&Value::Null);
                        if string_of(key, "PK").as_deref() == Some(pk.as_str())
                            || (is_index(&pk) && key.get("GSI1PK").is_some())
                        {
                            json!({"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity for one or more global secondary indexes or the table. DynamoDB is automatically scaling your table or index so please try again shortly."})
                        } else {
                            json!({"Code": "None"})
                        }
                    })
                    .collect();
                cancelled(&reasons)
            }
        }
    }

    fn admit_batch_get(&self, mut request: Value) -> Admission {
        let Some(tables) = request["RequestItems"].as_object_mut() else {
            return Admission::Forward {
                charge: Charge { reads: None },
                body: None,
                unprocessed: None,
            };
        };
        let mut unprocessed = Map::new();
        let mut any_kept = false;
        for (table, spec) in tables.iter_mut() {
            let keys = spec["Keys"].as_array().cloned().unwrap_or_default();
            let (mut kept, mut refused) = (Vec::new(), Vec::new());
            for key in keys {
                let pk = string_of(&key, "PK").unwrap_or_default();
                if self.take(&[], std::slice::from_ref(&pk)).is_ok() {
                    kept.push(key);
                } else {
                    refused.push(key);
                }
            }
            any_kept |= !kept.is_empty();
            if !refused.is_empty() {
                let mut rest = spec.clone();
                rest["Keys"] = Value::Array(refused);
                unprocessed.insert(table.clone(), rest);
            }
            spec["Keys"] = Value::Array(kept);
        }
        let consistent = request["RequestItems"]
            .as_object()
            .and_then(|t| t.values().next())
            .and_then(|s| s["ConsistentRead"].as_bool())
            .unwrap_or(false);
        if !any_kept {
            // Every key over its partition's limit: the whole call is throttled.
            return self.throttle("Table", "Read", "(every key of the batch)");
        }
        if unprocessed.is_empty() {
            return Admission::Forward {
                charge: Charge {
                    reads: Some(ReadCharge {
                        partition: None,
                        consistent,
                    }),
                },
                body: None,
                unprocessed: None,
            };
        }
        // Only the admitted keys go to the engine; the rest come back as `UnprocessedKeys`.
        tables_retain_nonempty(&mut request);
        Admission::Forward {
            charge: Charge {
                reads: Some(ReadCharge {
                    partition: None,
                    consistent,
                }),
            },
            body: serde_json::to_vec(&request).ok(),
            unprocessed: Some(Value::Object(unprocessed)),
        }
    }

    fn throttle(&self, resource: &str, operation: &str, pk: &str) -> Admission {
        self.count_throttle();
        let body = json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": format!("Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: {pk}"),
            "ThrottlingReasons": [{
                "reason": format!("{resource}{operation}KeyRangeThroughputExceeded"),
                "resource": "arn:aws:dynamodb:local:000000000000:table/chaos",
            }],
        });
        Admission::Refuse(400, body.to_string())
    }

    /// Charges the reads of an answer and merges `unprocessed` keys into it; returns the body to
    /// send on.
    pub fn settle(
        &self,
        charge: &Charge,
        response: &[u8],
        unprocessed: Option<Value>,
    ) -> Option<Vec<u8>> {
        let reads = charge.reads.as_ref();
        if reads.is_none() && unprocessed.is_none() {
            return None;
        }
        let mut answer: Value = serde_json::from_slice(response).ok()?;
        if let Some(reads) = reads {
            let charge_item = |item: &Value, partition: Option<&str>| {
                let bytes = item.as_object().map_or(0, item_size);
                let pk = partition
                    .map(str::to_owned)
                    .unwrap_or_else(|| string_of(item, "PK").unwrap_or_default());
                self.charge_read(&pk, read_units(bytes, reads.consistent));
            };
            if let Some(item) = answer.get("Item") {
                charge_item(item, reads.partition.as_deref());
            } else if let Some(items) = answer.get("Items").and_then(Value::as_array) {
                // A query is billed on the total size it read, not item by item.
                let bytes: usize = items
                    .iter()
                    .map(|i| i.as_object().map_or(0, item_size))
                    .sum();
                let pk = reads.partition.clone().unwrap_or_default();
                self.charge_read(&pk, read_units(bytes, reads.consistent));
            } else if let Some(responses) = answer.get("Responses").and_then(Value::as_object) {
                for items in responses.values().filter_map(Value::as_array) {
                    for item in items {
                        charge_item(item, None);
                    }
                }
            } else if reads.partition.is_some() {
                // A read of a missing item still costs a unit.
                self.charge_read(
                    reads.partition.as_deref().unwrap_or_default(),
                    read_units(0, reads.consistent),
                );
            }
        }
        if let Some(unprocessed) = unprocessed {
            answer["UnprocessedKeys"] = unprocessed;
        }
        serde_json::to_vec(&answer).ok()
    }
}

fn tables_retain_nonempty(request: &mut Value) {
    if let Some(tables) = request["RequestItems"].as_object_mut() {
        tables.retain(|_, spec| spec["Keys"].as_array().is_some_and(|k| !k.is_empty()));
    }
}

fn cancelled(reasons: &[Value]) -> Admission {
    let codes: Vec<&str> = reasons.iter().filter_map(|r| r["Code"].as_str()).collect();
    let body = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
        "CancellationReasons": reasons,
    });
    Admission::Refuse(400, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        let item = json!({"PK": {"S": "PRODUCT#a"}, "stock": {"N": "1234"}, "ok": {"BOOL": true}});
        // "PK" 2 + 9, "stock" 5 + (4 digits → 2 + 1), "ok" 2 + 1.
        assert_eq!(item_size(item.as_object().expect("object")), 11 + 8 + 3);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(10, false), 0.5);
    }

    #[test]
    fn a_partition_over_its_write_limit_is_throttled_and_refills() {
        let capacity = Capacity::new(Limits {
            read: 10.0,
            write: 2.0,
        });
        let update =
            json!({"Key": {"PK": {"S": "PRODUCT#hot"}, "SK": {"S": "PRODUCT"}}}).to_string();
        let admitted = |c: &Capacity| {
            matches!(
                c.admit("UpdateItem", update.as_bytes()),
                Admission::Forward { .. }
            )
        };
        assert!(admitted(&capacity));
        assert!(admitted(&capacity));
        assert!(
            !admitted(&capacity),
            "a third write in the same second is over 2 units"
        );
        // Another partition is unaffected.
        let other =
            json!({"Key": {"PK": {"S": "PRODUCT#cold"}, "SK": {"S": "PRODUCT"}}}).to_string();
        assert!(matches!(
            capacity.admit("UpdateItem", other.as_bytes()),
            Admission::Forward { .. }
        ));
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(admitted(&capacity), "half a second refills one unit");
        assert_eq!(capacity.counters().throttled, 1);
    }

    #[test]
    fn a_batch_gets_its_throttled_keys_back_as_unprocessed() {
        let capacity = Capacity::new(Limits {
            read: 1.0,
            write: 1.0,
        });
        let key = |pk: &str| json!({"PK": {"S": pk}, "SK": {"S": "PRODUCT"}});
        // Put the hot partition into debt: a read is admitted, then charged when answered.
        let read = json!({"Key": key("PRODUCT#hot"), "ConsistentRead": true}).to_string();
        assert!(matches!(
            capacity.admit("GetItem", read.as_bytes()),
            Admission::Forward { .. }
        ));
        capacity.charge_read("PRODUCT#hot", 5.0);
        let batch = json!({"RequestItems": {"t": {"Keys": [key("PRODUCT#hot"), key("PRODUCT#cold")], "ConsistentRead": true}}});
        let Admission::Forward {
            body: Some(body),
            unprocessed: Some(unprocessed),
            ..
        } = capacity.admit("BatchGetItem", batch.to_string().as_bytes())
        else {
            panic!("a partly admitted batch is forwarded without the throttled key");
        };
        let sent: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            sent["RequestItems"]["t"]["Keys"],
            json!([key("PRODUCT#cold")])
        );
        assert_eq!(unprocessed["t"]["Keys"], json!([key("PRODUCT#hot")]));
        assert_eq!(unprocessed["t"]["ConsistentRead"], true);
        // Every key over its limit: the whole call is throttled.
        let hot_only = json!({"RequestItems": {"t": {"Keys": [key("PRODUCT#hot")]}}});
        assert!(matches!(
            capacity.admit("BatchGetItem", hot_only.to_string().as_bytes()),
            Admission::Refuse(400, _)
        ));
    }

    #[test]
    fn a_stock_change_writes_no_index_but_a_catalog_write_does() {
        let mut writes = Vec::new();
        write_charges(
            &json!({"Key": {"PK": {"S": "PRODUCT#a"}, "SK": {"S": "PRODUCT"}}, "ExpressionAttributeNames": {"#stock": "stock"}}),
            true,
            &mut writes,
        );
        assert_eq!(writes, [("PRODUCT#a".to_owned(), 2.0)]);
        writes.clear();
        write_charges(
            &json!({"Key": {"PK": {"S": "PRODUCT#a"}, "SK": {"S": "PRODUCT"}}, "ExpressionAttributeNames": {"#f0": "GSI1PK"}}),
            false,
            &mut writes,
        );
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[1].0, index_partition("PRODUCTS"));
    }
}
