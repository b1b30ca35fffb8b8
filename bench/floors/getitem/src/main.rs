//! The storage floor: the same strongly consistent `GetItem` that `GET /products/{id}` sends,
//! with a client built from the environment the way the functions build theirs, in a bare loop.
//!
//! `floor-getitem <count>` with `TABLE_NAME`, `KEY_PK`, `KEY_SK` and the standard AWS settings
//! (see the crate's lib). Prints one JSON line: `{"first_us": <first call, opening the
//! connection>, "samples_us": [<count warm calls>], "cpu_us": <CPU time per warm call>}`.

use aws_sdk_dynamodb::types::AttributeValue;
use floor_getitem::{arg, client, setting, time};

const FLOOR: &str = "floor-getitem";

#[tokio::main]
async fn main() {
    let count = arg(1, "floor-getitem <count>");
    let table = setting(FLOOR, "TABLE_NAME");
    let (pk, sk) = (setting(FLOOR, "KEY_PK"), setting(FLOOR, "KEY_SK"));
    let client = client(FLOOR).await;
    time(FLOOR, count, |_| {
        let get = client
            .get_item()
            .table_name(&table)
            .key("PK", AttributeValue::S(pk.clone()))
            .key("SK", AttributeValue::S(sk.clone()))
            .consistent_read(true)
            .send();
        async {
            match get.await {
                Ok(out) if out.item.is_some() => Ok(()),
                Ok(_) => Err(format!("the item {pk}/{sk} is missing from {table}")),
                Err(err) => Err(format!("GetItem failed: {err:?}")),
            }
        }
    })
    .await;
}
