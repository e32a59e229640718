//! The trip: what the API receives and what each step adds to it.

use serde::{Deserialize, Serialize};

/// A trip being booked. Each step fills in its booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    /// The trip's id, also the saga id.
    pub trip_id: String,
    /// Where to.
    pub city: String,
    /// How long.
    pub nights: u32,
    /// Steps or compensations that should fail (failure injection for
    /// demos and tests), e.g. `["book_flight"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fail: Vec<String>,
    /// The hotel booking id, once booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotel: Option<String>,
    /// The flight booking id, once booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight: Option<String>,
    /// The rental booking id, once booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rental: Option<String>,
}

impl Trip {
    /// Whether the step or compensation `name` should fail.
    pub fn fails(&self, name: &str) -> bool {
        self.fail.iter().any(|f| f == name)
    }
}

/// The largest trip id accepted (it is the saga id, a DynamoDB key).
pub const MAX_TRIP_ID: usize = 128;

/// Whether `id` is a usable trip id: 1 to 128 characters of `[A-Za-z0-9._:-]`.
pub fn is_valid_trip_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TRIP_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}
