//! Proves the moto harness: a real DynamoDB round trip over loopback.

use aws_sdk_dynamodb::types::AttributeValue;
use halo_test_support::moto::{Moto, create_string_key_table, unique_name};
use halo_test_support::sdk_requests::RequestCounter;

#[tokio::test]
async fn put_then_get_an_item_through_moto() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config().await).interceptor(counter.clone()).build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = unique_name("roundtrip");
    create_string_key_table(&client, &table, "id").await;
    client
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S("k1".into()))
        .item("status", AttributeValue::S("COMPLETED".into()))
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await
        .expect("put item");
    let item = client
        .get_item()
        .table_name(&table)
        .key("id", AttributeValue::S("k1".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .expect("the item exists");
    assert_eq!(item["status"], AttributeValue::S("COMPLETED".into()));

    // The same conditional put fails now that the item exists.
    let again = client
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S("k1".into()))
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await;
    assert!(again.is_err(), "a conditional put on an existing id must fail");
    assert_eq!(counter.count("PutItem"), 2, "{:?}", counter.by_operation());
    assert_eq!(counter.count("GetItem"), 1);
}
