//! The transaction floor: a bare `TransactWriteItems` loop, each transaction as many conditional
//! updates as a checkout's or a cancel's (`<actions>`), on items of its own in the same table.
//!
//! `floor-transact <count> <actions>` with `TABLE_NAME` and the standard AWS settings (see the
//! crate's lib). Each action adds 1 to a counter on its own item (`PK = FLOOR#transact`,
//! `SK = <action>`) under a condition, as every action of the shop's transactions has one. Prints
//! the same JSON line as `floor-getitem`.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use floor_getitem::{arg, client, setting, time};

const FLOOR: &str = "floor-transact";

#[tokio::main]
async fn main() {
    let usage = "floor-transact <count> <actions>";
    let (count, actions) = (arg(1, usage), arg(2, usage));
    if !(1..=100).contains(&actions) {
        eprintln!("{FLOOR}: <actions> is 1 to 100, as DynamoDB allows");
        std::process::exit(2)
    }
    let table = setting(FLOOR, "TABLE_NAME");
    let client = client(FLOOR).await;
    let items: Vec<TransactWriteItem> = (0..actions)
        .map(|i| {
            let update = Update::builder()
                .table_name(&table)
                .key("PK", AttributeValue::S("FLOOR#transact".to_owned()))
                .key("SK", AttributeValue::S(i.to_string()))
                .update_expression("ADD #n :one")
                .condition_expression("attribute_not_exists(#n) OR #n >= :zero")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                .expression_attribute_values(":zero", AttributeValue::N("0".to_owned()))
                .build()
                .unwrap_or_else(|e| {
                    eprintln!("{FLOOR}: {e}");
                    std::process::exit(2)
                });
            TransactWriteItem::builder().update(update).build()
        })
        .collect();
    time(FLOOR, count, |_| {
        let send = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send();
        async {
            send.await
                .map(|_| ())
                .map_err(|err| format!("TransactWriteItems failed: {err:?}"))
        }
    })
    .await;
}
