//! The three downstream services, each call behind its own breaker.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Base URLs of the services, from `CUSTOMERS_URL`, `ORDERS_URL` and
/// `PAYMENTS_URL` (unset: `http://127.0.0.1:9`, which refuses, so a local
/// run shows every fallback).
#[derive(Debug)]
pub struct Services {
    client: halo::http::Client,
    customers: String,
    orders: String,
    payments: String,
}

static SERVICES: OnceLock<Services> = OnceLock::new();

/// Reads the service URLs and builds the HTTP client, once per container.
pub fn configure() -> Result<&'static Services, halo::Error> {
    let url = |name: &str| std::env::var(name).unwrap_or_else(|_| "http://127.0.0.1:9".to_owned());
    let client = halo::http::Client::builder()
        .max_attempts(2)
        .attempt_timeout(Duration::from_millis(800))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .build()?;
    Ok(SERVICES.get_or_init(|| Services {
        client,
        customers: url("CUSTOMERS_URL"),
        orders: url("ORDERS_URL"),
        payments: url("PAYMENTS_URL"),
    }))
}

fn services() -> Result<&'static Services, halo::Error> {
    SERVICES.get().ok_or_else(|| halo::Error::internal("the services are not configured"))
}

async fn get_json(url: String) -> Result<Value, halo::Error> {
    let response = services()?.client.get(url).send().await?;
    if response.status().as_u16() == 404 {
        return Err(halo::Error::not_found("no such invoice"));
    }
    if !response.status().is_success() {
        return Err(halo::Error::upstream(format!("a service answered {}", response.status().as_u16())));
    }
    response.json().await.map_err(|e| halo::Error::upstream("a service answered nonsense").with_source(e))
}

/// A part of the invoice and whether it came from a fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The service's answer, or the fallback's.
    pub data: Value,
    /// True when the service was not asked or failed.
    pub degraded: bool,
}

impl Part {
    fn live(data: Value) -> Part {
        Part { data, degraded: false }
    }

    fn degraded(data: Value) -> Part {
        Part { data, degraded: true }
    }
}

/// The invoice's customer.
#[halo::circuit_breaker(name = "customers", consecutive_failures = 3, open_for = "10s", fallback = customer_unknown)]
pub async fn customer(invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(get_json(format!("{}/customers/by-invoice/{invoice_id}", services()?.customers)).await?))
}

async fn customer_unknown(_invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!({ "name": null })))
}

/// The invoice's order lines.
#[halo::circuit_breaker(name = "orders", consecutive_failures = 3, open_for = "10s", fallback = lines_unavailable)]
pub async fn lines(invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(get_json(format!("{}/orders/by-invoice/{invoice_id}", services()?.orders)).await?))
}

async fn lines_unavailable(_invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!([])))
}

/// The invoice's payment status.
#[halo::circuit_breaker(name = "payments", consecutive_failures = 3, open_for = "10s", fallback = payment_unknown)]
pub async fn payment(invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(get_json(format!("{}/payments/{invoice_id}", services()?.payments)).await?))
}

async fn payment_unknown(_invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!({ "status": "unknown" })))
}

/// The URL of each service's health check, for the probe function.
pub fn health_urls() -> Result<[(&'static str, String); 3], halo::Error> {
    let s = services()?;
    Ok([
        ("customers", format!("{}/health", s.customers)),
        ("orders", format!("{}/health", s.orders)),
        ("payments", format!("{}/health", s.payments)),
    ])
}
