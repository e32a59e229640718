//! The trip: what the execution receives, what each step adds, the
//! manager's answer and the booking the execution returns.

use serde::{Deserialize, Serialize};

/// A trip to book: the execution's input event.
///
/// A top-level `x-correlation-id` beside these fields (how halo carries a
/// correlation id in a direct invoke) is the execution's correlation id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    /// The trip's id, also the saga id (in every step's idempotency token).
    pub trip_id: String,
    /// Who travels.
    pub traveller: String,
    /// The hotel to reserve.
    pub hotel: String,
    /// The flight to book.
    pub flight: String,
    /// The total to charge once approved, in cents.
    pub total_cents: u64,
    /// The currency of the total (ISO 4217, e.g. `EUR`).
    pub currency: String,
}

/// The longest trip id accepted.
pub const MAX_TRIP_ID: usize = 64;

/// The longest traveller, hotel or flight accepted.
const MAX_TEXT: usize = 200;

impl Trip {
    /// Checks the trip before anything is booked: a 422 naming the field,
    /// never quoting what the caller sent.
    pub fn validate(&self) -> Result<(), halo::Error> {
        if !is_valid_trip_id(&self.trip_id) {
            return Err(halo::Error::unprocessable("`trip_id` must be 1 to 64 characters of A-Z a-z 0-9 . _ : -"));
        }
        for (field, value) in [("traveller", &self.traveller), ("hotel", &self.hotel), ("flight", &self.flight)] {
            if value.trim().is_empty() || value.chars().count() > MAX_TEXT {
                return Err(halo::Error::unprocessable(format!("`{field}` must be 1 to 200 characters")));
            }
        }
        if self.total_cents == 0 {
            return Err(halo::Error::unprocessable("`total_cents` must be positive"));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(halo::Error::unprocessable("`currency` must be three capital letters, e.g. EUR"));
        }
        Ok(())
    }
}

/// Whether `id` is a usable trip id: 1 to 64 characters of `[A-Za-z0-9._:-]`.
pub fn is_valid_trip_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TRIP_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The trip once its hotel is reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The trip.
    pub trip: Trip,
    /// The hotel reservation's id.
    pub hotel_reservation: String,
}

/// The trip once its hotel is reserved and its flight booked: what the
/// manager is asked to approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Itinerary {
    /// The trip.
    pub trip: Trip,
    /// The hotel reservation's id.
    pub hotel_reservation: String,
    /// The flight booking's id.
    pub flight_booking: String,
}

/// The manager's answer: the payload of the callback
/// (`{"approved": true}`, optionally with `"approver"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Whether the trip may be charged.
    pub approved: bool,
    /// Who answered, if the approver said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
}

/// The booked trip: the execution's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The trip's id.
    pub trip_id: String,
    /// The hotel reservation's id.
    pub hotel_reservation: String,
    /// The flight booking's id.
    pub flight_booking: String,
    /// The card charge's id.
    pub charge: String,
    /// The total charged, in cents.
    pub total_cents: u64,
    /// Its currency.
    pub currency: String,
    /// Who approved, if the approver said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip() -> Trip {
        Trip {
            trip_id: "trip-1".into(),
            traveller: "Ada".into(),
            hotel: "Lisboa Plaza".into(),
            flight: "TP 1351".into(),
            total_cents: 100,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn a_trip_is_checked_without_quoting_the_caller() {
        assert!(trip().validate().is_ok());
        let hostile = "<script>alert(1)</script>";
        let cases = [
            Trip { trip_id: hostile.into(), ..trip() },
            Trip { trip_id: "a/b".into(), ..trip() },
            Trip { traveller: " ".into(), ..trip() },
            Trip { hotel: "h".repeat(201), ..trip() },
            Trip { total_cents: 0, ..trip() },
            Trip { currency: hostile.into(), ..trip() },
        ];
        for case in cases {
            let err = case.validate().unwrap_err();
            assert_eq!((err.status(), err.code()), (422, "Unprocessable"));
            assert!(!err.message().contains(hostile), "{}", err.message());
        }
    }
}
