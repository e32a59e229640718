//! The three downstream services, each call behind its own breaker. The
//! handler's `init` builds [`Services`] once per container and the handler
//! passes it to each guarded call, which hands it to its fallback too.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The HTTP client and the base URLs of the services, from
/// `CUSTOMERS_URL`, `ORDERS_URL` and `PAYMENTS_URL` (unset:
/// `http://127.0.0.1:9`, which refuses, so a local run shows every
/// fallback).
#[derive(Debug)]
pub struct Services {
    client: halo::http::Client,
    customers: String,
    orders: String,
    payments: String,
}

impl Services {
    /// Reads the service URLs and builds the HTTP client: the handler's
    /// `init`, run once per container.
    pub fn from_env() -> Result<Services, halo::Error> {
        let url = |name: &str| std::env::var(name).unwrap_or_else(|_| "http://127.0.0.1:9".to_owned());
        let client = halo::http::Client::builder()
            .max_attempts(2)
            .attempt_timeout(Duration::from_millis(800))
            .backoff(Duration::from_millis(20), Duration::from_millis(100))
            .build()?;
        Ok(Services {
            client,
            customers: url("CUSTOMERS_URL"),
            orders: url("ORDERS_URL"),
            payments: url("PAYMENTS_URL"),
        })
    }

    /// The URL of each service's health check, for the probe function.
    pub fn health_urls(&self) -> [(&'static str, String); 3] {
        [
            ("customers", format!("{}/health", self.customers)),
            ("orders", format!("{}/health", self.orders)),
            ("payments", format!("{}/health", self.payments)),
        ]
    }

    async fn get_json(&self, url: String) -> Result<Value, halo::Error> {
        let response = self.client.get(url).send().await?;
        if response.status().as_u16() == 404 {
            return Err(halo::Error::not_found("no such invoice"));
        }
        if !response.status().is_success() {
            return Err(halo::Error::upstream(format!("a service answered {}", response.status().as_u16())));
        }
        response.json().await.map_err(|e| halo::Error::upstream("a service answered nonsense").with_source(e))
    }
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
pub async fn customer(services: &Services, invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(services.get_json(format!("{}/customers/by-invoice/{invoice_id}", services.customers)).await?))
}

async fn customer_unknown(_services: &Services, _invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!({ "name": null })))
}

/// The invoice's order lines.
#[halo::circuit_breaker(name = "orders", consecutive_failures = 3, open_for = "10s", fallback = lines_unavailable)]
pub async fn lines(services: &Services, invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(services.get_json(format!("{}/orders/by-invoice/{invoice_id}", services.orders)).await?))
}

async fn lines_unavailable(_services: &Services, _invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!([])))
}

/// The invoice's payment status.
#[halo::circuit_breaker(name = "payments", consecutive_failures = 3, open_for = "10s", fallback = payment_unknown)]
pub async fn payment(services: &Services, invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::live(services.get_json(format!("{}/payments/{invoice_id}", services.payments)).await?))
}

async fn payment_unknown(_services: &Services, _invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part::degraded(serde_json::json!({ "status": "unknown" })))
}
