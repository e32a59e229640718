//! The trip API: `POST /trips` with `{"trip_id", "city", "nights"}` books
//! a hotel, a flight and a rental car as one saga.
//!
//! - success: `200` with the three bookings;
//! - a booking fails: everything booked is cancelled, `409` with the
//!   failed step and the trace id;
//! - a cancellation fails too (after its retries): `500`, and the error log
//!   line lists the failed compensations for an operator.
//!
//! `?fail=book_flight` (comma-separated step or compensation names)
//! injects failures; `?definition=asl` runs the saga loaded from
//! `trip.asl.json` instead of the `#[saga_step]` one.
//!
//! ```text
//! cargo run -p trip-booking -- invoke examples/trip-booking/events/book-trip.json
//! ```

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use serde::{Deserialize, Serialize};
use trip_booking::trip::{Trip, is_valid_trip_id};
use trip_booking::{State, init};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TripRequest {
    trip_id: String,
    city: String,
    nights: u32,
}

#[derive(Debug, Serialize)]
struct Booked {
    trip_id: String,
    hotel: Option<String>,
    flight: Option<String>,
    rental: Option<String>,
    definition: &'static str,
}

/// Books the trip as a saga whose id is the trip id: a retry of the same
/// trip resumes it (or returns its recorded outcome) instead of booking
/// again.
#[halo::handler(init = init)]
async fn handler(
    request: ApiGatewayProxyRequest,
    _ctx: &halo::Ctx,
    state: &State,
) -> Result<halo::JsonResponse, halo::Error> {
    let body = request.body.as_deref().unwrap_or_default();
    // halo's decoder: a 400 `InvalidBody` that names where the body went
    // wrong and never quotes what the caller sent.
    let trip: TripRequest = halo::decode_body(body)?;
    if !is_valid_trip_id(&trip.trip_id) {
        return Err(halo::Error::unprocessable("`trip_id` must be 1 to 128 characters of A-Z a-z 0-9 . _ : -"));
    }
    if trip.nights == 0 || trip.nights > 60 {
        return Err(halo::Error::unprocessable("`nights` must be between 1 and 60"));
    }
    let fail: Vec<String> = request
        .query_string_parameters
        .first("fail")
        .map(|f| f.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let input = Trip {
        trip_id: trip.trip_id,
        city: trip.city,
        nights: trip.nights,
        fail,
        hotel: None,
        flight: None,
        rental: None,
    };
    let booked = match request.query_string_parameters.first("definition") {
        Some("asl") => {
            let state_doc = serde_json::to_value(&input)?;
            let done = state.saga_asl.run(&*state.log, &input.trip_id, state_doc).await?;
            let id = |result: &str| done[result]["id"].as_str().map(str::to_owned);
            Booked {
                trip_id: input.trip_id,
                hotel: id("BookHotelResult"),
                flight: id("BookFlightResult"),
                rental: id("BookRentalResult"),
                definition: "asl",
            }
        }
        None | Some("macros") => {
            let done = state.saga.run(&*state.log, &input.trip_id, input.clone()).await?;
            Booked {
                trip_id: done.trip_id,
                hotel: done.hotel,
                flight: done.flight,
                rental: done.rental,
                definition: "macros",
            }
        }
        Some(_) => return Err(halo::Error::bad_request("`definition` is `macros` or `asl`")),
    };
    halo::JsonResponse::new(200, &booked)
}
