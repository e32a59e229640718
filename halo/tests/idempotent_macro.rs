//! `#[halo::idempotent]` behaves like the library API it expands to: on a
//! handler-shaped fn (API Gateway event, `&Ctx`), on a method, and on any
//! async fn with its own error type; against moto and the memory store.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use halo::idempotency::{DynamoDbIdempotencyStore, MemoryIdempotencyStore};
use halo::{Ctx, idempotent};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use serde::{Deserialize, Serialize};

static CHARGES: AtomicU32 = AtomicU32::new(0);

fn request(payment_id: &str, amount: u64) -> ApiGatewayProxyRequest {
    let mut request = ApiGatewayProxyRequest::default();
    request.http_method = aws_lambda_events::http::Method::POST;
    request.body = Some(format!(r#"{{"payment_id": "{payment_id}", "amount": {amount}}}"#));
    request
}

/// A handler-shaped function; the store comes from a parameter, as it would
/// from init state.
#[idempotent(name = "macro-charge", key = ["/body/payment_id"], validate = ["/body/amount"], store = store, payload = event)]
async fn charge(
    event: ApiGatewayProxyRequest,
    ctx: &Ctx,
    store: &DynamoDbIdempotencyStore,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let n = CHARGES.fetch_add(1, Ordering::SeqCst);
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 201;
    response.body =
        Some(Body::Text(format!(r#"{{"charge":{n},"remaining_ms_positive":{}}}"#, ctx.remaining() > Duration::ZERO)));
    Ok(response)
}

#[tokio::test]
async fn handler_shaped_fn_on_dynamodb_replays_with_one_request() {
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&Moto::shared().sdk_config().await)
        .interceptor(counter.clone())
        .build();
    let store = DynamoDbIdempotencyStore::new(aws_sdk_dynamodb::Client::from_conf(config), unique_name("macro"));
    store.create_table().await.unwrap();
    let ctx = Ctx::for_test();
    counter.reset();
    let before = CHARGES.load(Ordering::SeqCst);
    let first = charge(request("p-1", 10), &ctx, &store).await.unwrap();
    assert_eq!(counter.total(), 2);
    counter.reset();
    let again = charge(request("p-1", 10), &ctx, &store).await.unwrap();
    assert_eq!(counter.by_operation(), [("PutItem".to_owned(), 1)].into_iter().collect());
    assert_eq!(first, again, "the identical response");
    assert_eq!(first.status_code, 201);
    assert_eq!(CHARGES.load(Ordering::SeqCst), before + 1);

    let err = charge(request("p-1", 11), &ctx, &store).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "PayloadMismatch"));
    // The key is `name#md5(selected fields)`, independent of module paths.
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(halo::idempotency::key_for("macro-charge", &"p-1".into())),
        )
        .send()
        .await
        .unwrap();
    assert!(item.item.is_some());
}

/// Any async fn, with its own error type and no `&Ctx`.
#[derive(Debug, PartialEq)]
enum ShipError {
    OutOfStock,
    Idempotency(String),
}

impl From<halo::Error> for ShipError {
    fn from(err: halo::Error) -> Self {
        ShipError::Idempotency(err.code().to_owned())
    }
}

#[derive(Serialize)]
struct Shipment {
    order_id: String,
    sku: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Label {
    tracking: String,
}

static STORE: LazyLock<MemoryIdempotencyStore> = LazyLock::new(MemoryIdempotencyStore::new);
static SHIPPED: AtomicU32 = AtomicU32::new(0);

#[halo::idempotent(key = ["/order_id"], required = true, expires_after = "24h", store = *STORE)]
async fn ship(shipment: Shipment) -> Result<Label, ShipError> {
    if shipment.sku == "none" {
        return Err(ShipError::OutOfStock);
    }
    let n = SHIPPED.fetch_add(1, Ordering::SeqCst);
    Ok(Label { tracking: format!("T{n}") })
}

#[tokio::test]
async fn any_async_fn_with_its_own_error_type() {
    let first = ship(Shipment { order_id: "o-1".into(), sku: "a".into() }).await.unwrap();
    let again = ship(Shipment { order_id: "o-1".into(), sku: "a".into() }).await.unwrap();
    assert_eq!(first, again);
    let failed = ship(Shipment { order_id: "o-2".into(), sku: "none".into() }).await;
    assert_eq!(failed, Err(ShipError::OutOfStock), "the fn's own error, record released");
    let retried = ship(Shipment { order_id: "o-2".into(), sku: "b".into() }).await;
    assert!(retried.is_ok(), "the retry ran");
    let key = halo::idempotency::key_for("ship", &"o-1".into());
    let record = halo::idempotency::IdempotencyStore::get(&*STORE, &key).await.unwrap().unwrap();
    assert!(record.expiration >= 24 * 3600, "expires_after = 24h: {record:?}");
}

#[tokio::test]
async fn required_key_missing_is_an_error_of_the_fns_type() {
    #[derive(Serialize)]
    struct NoId {
        sku: String,
    }
    #[halo::idempotent(key = ["/order_id"], required = true, store = MemoryIdempotencyStore::new())]
    async fn ship_any(shipment: NoId) -> Result<String, ShipError> {
        Ok(shipment.sku)
    }
    let err = ship_any(NoId { sku: "a".into() }).await.unwrap_err();
    assert_eq!(err, ShipError::Idempotency("IdempotencyKeyMissing".into()));
}

struct Ledger {
    store: MemoryIdempotencyStore,
    entries: AtomicU32,
}

impl Ledger {
    /// A method: the payload is the first parameter after `self`; the
    /// deadline comes from the current context.
    #[halo::idempotent(name = "ledger", store = self.store, wait = "2s", local_cache = 8)]
    async fn record(&self, entry: serde_json::Value) -> Result<u32, halo::Error> {
        Ok(self.entries.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

#[tokio::test]
async fn a_method_using_the_current_context() {
    let ledger = Ledger { store: MemoryIdempotencyStore::new(), entries: AtomicU32::new(0) };
    let ctx = Ctx::builder("r").timeout(Duration::from_secs(5)).build();
    let entry = serde_json::json!({ "id": 1, "amount": 5 });
    let first = ctx.clone().scope(ledger.record(entry.clone())).await.unwrap();
    let again = ctx.clone().scope(ledger.record(entry)).await.unwrap();
    assert_eq!((first, again), (1, 1));
    let key = halo::idempotency::key_for("ledger", &serde_json::json!({ "amount": 5, "id": 1 }));
    let record = halo::idempotency::IdempotencyStore::get(&ledger.store, &key).await.unwrap().unwrap();
    assert_eq!(record.status, halo::idempotency::store::Status::Completed);
    assert_eq!(ledger.entries.load(Ordering::SeqCst), 1);
}

/// Tells the caller a response is a stored one, as a `replayed` field.
fn mark_replayed(mut response: serde_json::Value, replay: &halo::idempotency::Replay<'_>) -> serde_json::Value {
    response["replayed"] = serde_json::json!(if replay.from_cache { "cache" } else { "store" });
    response
}

#[tokio::test]
async fn on_replay_hook_marks_replays() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Receipt {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replayed: Option<String>,
    }
    #[halo::idempotent(key = ["/id"], on_replay = mark_replayed, store = MemoryIdempotencyStore::new())]
    async fn refund(request: serde_json::Value) -> Result<Receipt, halo::Error> {
        Ok(Receipt { id: request["id"].as_str().unwrap_or_default().to_owned(), replayed: None })
    }
    // A fresh MemoryIdempotencyStore per call: nothing is ever replayed.
    let first = refund(serde_json::json!({ "id": "r-1" })).await.unwrap();
    assert_eq!(first.replayed, None);

    static REFUNDS: LazyLock<MemoryIdempotencyStore> = LazyLock::new(MemoryIdempotencyStore::new);
    #[halo::idempotent(key = ["/id"], local_cache = 4, on_replay = mark_replayed, store = *REFUNDS)]
    async fn refund_once(request: serde_json::Value) -> Result<Receipt, halo::Error> {
        Ok(Receipt { id: request["id"].as_str().unwrap_or_default().to_owned(), replayed: None })
    }
    let first = refund_once(serde_json::json!({ "id": "r-1" })).await.unwrap();
    let again = refund_once(serde_json::json!({ "id": "r-1" })).await.unwrap();
    assert_eq!(first, Receipt { id: "r-1".into(), replayed: None });
    assert_eq!(again, Receipt { id: "r-1".into(), replayed: Some("cache".into()) });
}
