//! The compiled aggregator against three loopback service stubs and a
//! loopback Lambda Runtime API: the invoice is assembled from the three,
//! correlation headers reach them, and a failing service's breaker opens
//! so later invoices are served degraded without calling it.

use std::path::Path;
use std::time::Duration;

use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::http_stub::HttpStub;
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_aggregator");
const TIMEOUT: Duration = Duration::from_secs(20);

fn event() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/get-invoice.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn body(outcome: &Outcome) -> Value {
    assert_eq!(outcome.body["statusCode"], 200, "{:?}", outcome.body);
    serde_json::from_str(outcome.body["body"].as_str().unwrap()).unwrap()
}

async fn healthy(answer: Value) -> HttpStub {
    HttpStub::start(move |_, _| Some((200, answer.to_string()))).await
}

async fn start(customers: &HttpStub, orders: &HttpStub, payments: &HttpStub) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start().await;
    let env = [
        ("CUSTOMERS_URL", customers.base_url()),
        ("ORDERS_URL", orders.base_url()),
        ("PAYMENTS_URL", payments.base_url()),
    ];
    let function = FunctionProcess::start(Path::new(BINARY), &api, &env);
    (api, function)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assembles_the_invoice_from_three_services_with_the_correlation_id() {
    let customers = healthy(json!({ "name": "Ada" })).await;
    let orders = healthy(json!([{ "sku": "BOOK-42", "quantity": 2 }])).await;
    let payments = healthy(json!({ "status": "paid" })).await;
    let (api, function) = start(&customers, &orders, &payments).await;
    let invoice = body(&api.invoke(&event(), TIMEOUT).await);
    function.stop();
    assert_eq!(
        invoice,
        json!({
            "invoice_id": "inv-1001", "customer": { "name": "Ada" }, "lines": [{ "sku": "BOOK-42", "quantity": 2 }],
            "payment": { "status": "paid" }, "degraded": []
        })
    );
    for stub in [&customers, &orders, &payments] {
        let requests = stub.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].header("x-correlation-id").as_deref(), Some("invoice-demo-1"));
    }
    assert_eq!(payments.requests()[0].path, "/payments/inv-1001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_is_replaced_by_its_fallback_and_its_breaker_opens() {
    let customers = healthy(json!({ "name": "Ada" })).await;
    let orders = healthy(json!([])).await;
    let payments = HttpStub::start(|_, _| Some((500, "{}".to_owned()))).await;
    let (api, function) = start(&customers, &orders, &payments).await;

    // Three failed calls (each retried once by the HTTP client) trip the
    // payments breaker; every answer meanwhile is degraded, not an error.
    for _ in 0..3 {
        let invoice = body(&api.invoke(&event(), TIMEOUT).await);
        assert_eq!(invoice["degraded"], json!(["payment"]));
        assert_eq!(invoice["payment"], json!({ "status": "unknown" }));
        assert_eq!(invoice["customer"], json!({ "name": "Ada" }));
    }
    let calls_when_tripped = payments.count();
    assert_eq!(calls_when_tripped, 6);
    // Open: the payments service is not called at all.
    for _ in 0..5 {
        let invoice = body(&api.invoke(&event(), TIMEOUT).await);
        assert_eq!(invoice["degraded"], json!(["payment"]));
    }
    assert_eq!(payments.count(), calls_when_tripped, "an open breaker does not call the service");
    assert_eq!(customers.count(), 8);

    let lines = parse_json_lines(&function.stop());
    let transitions: Vec<&Value> = lines.iter().filter(|l| l["message"] == "circuit breaker transition").collect();
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    let t = transitions[0];
    assert_eq!(
        (t["breaker"].as_str(), t["from"].as_str(), t["to"].as_str()),
        (Some("payments"), Some("CLOSED"), Some("OPEN"))
    );
    assert_eq!(t["reason"], "consecutive failures");
    assert_eq!(t["correlation_id"], "invoice-demo-1");
}
