//! In-memory stand-ins for the hotel, flight, card and approval services.
//!
//! Each call carries the saga step's idempotency token
//! (`<trip_id>/<step>`, [`StepCtx::idempotency_token`]) as its idempotency
//! key, and the stubs apply an effect at most once per key: a step run
//! again (a retry, an invocation interrupted before its checkpoint) gets
//! the same reservation back. A cancellation is keyed by the step's token
//! too, so it undoes the step whether or not the step's output was
//! recorded, and a key cancelled before anything was made refuses a late
//! request with it.
//!
//! The stubs count every request and journal every effect applied, by
//! token, so tests can check that each happened exactly once and in which
//! order.
//!
//! [`StepCtx::idempotency_token`]: halo::saga::StepCtx::idempotency_token

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a stub service did (or was asked to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// The hotel service reserved a room.
    HotelReserved,
    /// The hotel service cancelled a reservation.
    HotelCancelled,
    /// The flight service booked a seat.
    FlightBooked,
    /// The flight service cancelled a booking.
    FlightCancelled,
    /// The card service charged the traveller.
    CardCharged,
    /// The card service refunded a charge.
    CardRefunded,
    /// The approval service sent the manager an approval request.
    ApprovalRequested,
}

/// One effect applied, with the idempotency token it was applied for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// What was done.
    pub effect: Effect,
    /// The idempotency token of the request that did it.
    pub token: String,
}

/// An approval request as the approval service holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// The trip to approve.
    pub trip_id: String,
    /// The id the manager answers with
    /// (`SendDurableExecutionCallbackSuccess`).
    pub callback_id: String,
    /// The total to approve, in cents.
    pub total_cents: u64,
    /// Its currency.
    pub currency: String,
}

/// A reservation, booking or charge, by idempotency token.
#[derive(Debug, Clone)]
struct Record {
    /// Its id; `None` for a token cancelled before anything was made.
    id: Option<String>,
    /// Made and not cancelled.
    live: bool,
}

/// The three services that make something a saga step may have to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Service {
    Hotels,
    Flights,
    Cards,
}

impl Service {
    /// The effect of making something, of undoing it, and the prefix of its ids.
    fn effects(self) -> (Effect, Effect, &'static str) {
        match self {
            Service::Hotels => (Effect::HotelReserved, Effect::HotelCancelled, "hotel"),
            Service::Flights => (Effect::FlightBooked, Effect::FlightCancelled, "flight"),
            Service::Cards => (Effect::CardCharged, Effect::CardRefunded, "charge"),
        }
    }
}

#[derive(Debug, Default)]
struct Ledger {
    /// Requests received, by effect asked for and token.
    requests: HashMap<(Effect, String), u32>,
    /// Effects applied, in order.
    journal: Vec<Applied>,
    /// What each service made, by token.
    records: HashMap<(Service, String), Record>,
    /// Approval requests, by token.
    approvals: HashMap<String, ApprovalRequest>,
    next: u64,
}

impl Ledger {
    fn request(&mut self, effect: Effect, token: &str) {
        *self.requests.entry((effect, token.to_owned())).or_default() += 1;
    }

    fn apply(&mut self, effect: Effect, token: &str) {
        self.journal.push(Applied { effect, token: token.to_owned() });
    }

    /// Makes something at `service` for `token`, or returns what was made
    /// for it before.
    fn make(&mut self, service: Service, token: &str) -> Result<String, halo::Error> {
        let (made, _, prefix) = service.effects();
        self.request(made, token);
        let key = (service, token.to_owned());
        if let Some(record) = self.records.get(&key) {
            return match (&record.id, record.live) {
                (Some(id), true) => Ok(id.clone()),
                _ => {
                    Err(halo::Error::conflict(format!("this {prefix} request was cancelled"))
                        .with_code("AlreadyCancelled"))
                }
            };
        }
        self.next += 1;
        let id = format!("{prefix}-{}", self.next);
        self.records.insert(key, Record { id: Some(id.clone()), live: true });
        self.apply(made, token);
        tracing::info!(effect = ?made, token, id = %id, "stub: applied");
        Ok(id)
    }

    /// Undoes whatever `service` made for `token` (nothing made is fine),
    /// and refuses a later request with it.
    fn undo(&mut self, service: Service, token: &str) {
        let (_, undone, _) = service.effects();
        self.request(undone, token);
        let record = self.records.entry((service, token.to_owned())).or_insert(Record { id: None, live: false });
        if record.live {
            record.live = false;
            self.apply(undone, token);
            tracing::info!(effect = ?undone, token, "stub: applied");
        } else {
            tracing::info!(effect = ?undone, token, "stub: nothing to undo");
        }
    }
}

/// The stub services: shared (cloning shares the ledger), so the saga's
/// state and a test can hold the same ones.
#[derive(Debug, Clone, Default)]
pub struct Services {
    ledger: Arc<Mutex<Ledger>>,
}

impl Services {
    /// Fresh services with nothing made.
    pub fn new() -> Services {
        Services::default()
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A panic elsewhere never makes the stubs unusable.
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves a room; the same `token` gets the same reservation.
    pub fn reserve_hotel(&self, token: &str) -> Result<String, halo::Error> {
        self.lock().make(Service::Hotels, token)
    }

    /// Cancels what was reserved with `token`, if anything.
    pub fn cancel_hotel(&self, token: &str) {
        self.lock().undo(Service::Hotels, token);
    }

    /// Books a seat; the same `token` gets the same booking.
    pub fn book_flight(&self, token: &str) -> Result<String, halo::Error> {
        self.lock().make(Service::Flights, token)
    }

    /// Cancels what was booked with `token`, if anything.
    pub fn cancel_flight(&self, token: &str) {
        self.lock().undo(Service::Flights, token);
    }

    /// Charges the card; the same `token` gets the same charge.
    pub fn charge_card(&self, token: &str) -> Result<String, halo::Error> {
        self.lock().make(Service::Cards, token)
    }

    /// Refunds what was charged with `token`, if anything.
    pub fn refund_card(&self, token: &str) {
        self.lock().undo(Service::Cards, token);
    }

    /// Sends the manager `request`, once per `token`: a request sent again
    /// with the same token keeps the first (and its callback id).
    pub fn request_approval(&self, token: &str, request: ApprovalRequest) {
        let mut ledger = self.lock();
        ledger.request(Effect::ApprovalRequested, token);
        if !ledger.approvals.contains_key(token) {
            ledger.approvals.insert(token.to_owned(), request);
            ledger.apply(Effect::ApprovalRequested, token);
        }
    }

    /// How many requests for `effect` came with `token`.
    pub fn requests(&self, effect: Effect, token: &str) -> u32 {
        self.lock().requests.get(&(effect, token.to_owned())).copied().unwrap_or(0)
    }

    /// Every effect applied, in order.
    pub fn journal(&self) -> Vec<Applied> {
        self.lock().journal.clone()
    }

    /// How many times `effect` was applied for `token` (0 or 1).
    pub fn applied(&self, effect: Effect, token: &str) -> usize {
        self.lock().journal.iter().filter(|a| a.effect == effect && a.token == token).count()
    }

    /// The approval request sent with `token`, if any.
    pub fn approval_request(&self, token: &str) -> Option<ApprovalRequest> {
        self.lock().approvals.get(token).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_effect_is_applied_once_per_token() {
        let services = Services::new();
        let first = services.reserve_hotel("t-1/reserve_hotel").unwrap();
        assert_eq!(services.reserve_hotel("t-1/reserve_hotel").unwrap(), first, "the same token, the same reservation");
        services.cancel_hotel("t-1/reserve_hotel");
        services.cancel_hotel("t-1/reserve_hotel");
        assert_eq!(services.requests(Effect::HotelReserved, "t-1/reserve_hotel"), 2);
        assert_eq!(services.applied(Effect::HotelReserved, "t-1/reserve_hotel"), 1);
        assert_eq!(services.applied(Effect::HotelCancelled, "t-1/reserve_hotel"), 1);
        let late = services.reserve_hotel("t-1/reserve_hotel").unwrap_err();
        assert_eq!((late.status(), late.code()), (409, "AlreadyCancelled"));
    }

    #[test]
    fn a_token_cancelled_before_anything_was_made_refuses_a_late_request() {
        let services = Services::new();
        services.cancel_flight("t-2/book_flight");
        assert!(services.book_flight("t-2/book_flight").is_err());
        assert_eq!(services.journal(), []);
    }
}
