//! The three downstream booking services, reached over HTTP with
//! `halo::http::Client` (correlation headers, budget-aware timeouts).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

/// The booking services' base URL and the HTTP client: built once in
/// init and given to the sagas (`Saga::with_state`), so every step and
/// compensation reaches it with `ctx.state::<Services>()`.
#[derive(Debug, Clone)]
pub struct Services {
    client: halo::http::Client,
    base: String,
}

impl Services {
    /// The services at `base`, with a client for them.
    pub fn new(base: impl Into<String>) -> Result<Services, halo::Error> {
        let client = halo::http::Client::builder()
            .max_attempts(2)
            .attempt_timeout(Duration::from_secs(2))
            .backoff(Duration::from_millis(20), Duration::from_millis(200))
            .build()?;
        Ok(Services { client, base: base.into().trim_end_matches('/').to_owned() })
    }
}

#[derive(Deserialize)]
struct Booked {
    id: String,
}

impl Services {
    /// Books with the service `kind` (`hotels`, `flights`, `rentals`). The
    /// saga step's idempotency token goes along, so a retried or resumed
    /// step gets the same booking instead of a second one.
    pub async fn book(&self, kind: &str, token: &str, fail: bool) -> Result<String, halo::Error> {
        let url = format!("{}/{kind}{}", self.base, if fail { "?fail=1" } else { "" });
        let response = self
            .client
            .post(url)
            .header("idempotency-key", token)
            .json(&json!({ "token": token }))?
            .retry_non_idempotent() // safe: the service deduplicates on the idempotency key
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(
                halo::Error::conflict(format!("the {kind} service refused the booking")).with_code("BookingRefused")
            );
        }
        let booked: Booked = response.json().await.map_err(|e| {
            halo::Error::upstream("a booking service answered nonsense").with_source(format!("{kind}: {e}"))
        })?;
        Ok(booked.id)
    }

    /// Cancels the booking `id` with the service `kind`; cancelling twice is
    /// harmless (DELETE is idempotent).
    pub async fn cancel(&self, kind: &str, id: &str, fail: bool) -> Result<(), halo::Error> {
        let url = format!("{}/{kind}/{id}{}", self.base, if fail { "?fail=1" } else { "" });
        let response = self.client.delete(url).send().await?;
        cancelled(kind, response.status().as_u16())
    }

    /// Cancels whatever the service `kind` booked with the idempotency key
    /// `token` (nothing booked is fine), and makes it refuse a later booking
    /// with that key: how a compensation without the step's output (an
    /// interrupted step) undoes it.
    pub async fn cancel_by_key(&self, kind: &str, token: &str, fail: bool) -> Result<(), halo::Error> {
        let url = format!("{}/{kind}{}", self.base, if fail { "?fail=1" } else { "" });
        let response = self.client.delete(url).header("idempotency-key", token).send().await?;
        cancelled(kind, response.status().as_u16())
    }
}

/// Whether a cancellation answered `status` is done: a 2xx, or a 404 / 410
/// (the service holds nothing to cancel: the step never booked, or the
/// booking is gone), which is what a compensation wants. Anything else
/// failed, and the compensation is retried.
fn cancelled(kind: &str, status: u16) -> Result<(), halo::Error> {
    match status {
        200..=299 => Ok(()),
        404 | 410 => {
            tracing::info!(service = kind, status, "nothing to cancel: the compensation is done");
            Ok(())
        }
        _ => Err(halo::Error::upstream(format!("the {kind} service did not cancel the booking"))
            .with_source(format!("DELETE /{kind}: status {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::cancelled;

    #[test]
    fn nothing_to_cancel_is_a_done_compensation() {
        for done in [200, 204, 404, 410] {
            assert!(cancelled("rentals", done).is_ok(), "{done}");
        }
        for failed in [409, 429, 500, 503] {
            let err = cancelled("rentals", failed).unwrap_err();
            assert_eq!(err.message(), "the rentals service did not cancel the booking", "{failed}");
        }
    }
}
