//! The saga: reserve the hotel, book the flight, wait for the manager's
//! approval, charge the card; a failure undoes what was done, in reverse
//! order.
//!
//! Every step and compensation reaches the services with
//! `ctx.state::<Services>()` and sends the step's idempotency token
//! (`<trip_id>/<step>`), so a step run again applies nothing twice, and a
//! compensation undoes the step by the same token whether or not the
//! step's output was recorded.

use std::time::Duration;

use halo::saga::{Saga, StepCtx};

use crate::services::{ApprovalRequest, Services};
use crate::trip::{Approval, Booking, Itinerary, Reservation, Trip};

/// How long the manager has to answer. Shorter than the execution's
/// timeout (a day, `ExecutionTimeout` in `template.yaml`): an approval that
/// never comes fails the `manager_approval` pause with
/// `SagaCallbackTimedOut`, and the flight and the hotel are cancelled while
/// the execution still runs.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(20 * 3600);

/// The name of the approval pause (in its idempotency token and its
/// durable operation).
pub const APPROVAL_STEP: &str = "manager_approval";

/// Reserves the hotel.
#[halo::saga_step(compensate = cancel_hotel)]
pub async fn reserve_hotel(ctx: &StepCtx, trip: Trip) -> Result<Reservation, halo::Error> {
    let hotel_reservation = ctx.state::<Services>()?.reserve_hotel(&ctx.idempotency_token())?;
    Ok(Reservation { trip, hotel_reservation })
}

/// Cancels the reservation [`reserve_hotel`] made, by the step's token.
pub async fn cancel_hotel(ctx: &StepCtx, _trip: Trip, _reserved: Option<Reservation>) -> Result<(), halo::Error> {
    ctx.state::<Services>()?.cancel_hotel(&ctx.idempotency_token());
    Ok(())
}

/// Books the flight.
#[halo::saga_step(compensate = cancel_flight)]
pub async fn book_flight(ctx: &StepCtx, reservation: Reservation) -> Result<Itinerary, halo::Error> {
    let flight_booking = ctx.state::<Services>()?.book_flight(&ctx.idempotency_token())?;
    Ok(Itinerary { trip: reservation.trip, hotel_reservation: reservation.hotel_reservation, flight_booking })
}

/// Cancels the booking [`book_flight`] made, by the step's token.
pub async fn cancel_flight(
    ctx: &StepCtx,
    _reservation: Reservation,
    _booked: Option<Itinerary>,
) -> Result<(), halo::Error> {
    ctx.state::<Services>()?.cancel_flight(&ctx.idempotency_token());
    Ok(())
}

/// Sends the manager the approval request with the callback id they answer
/// with. It runs as a durable step: once per execution, however often the
/// execution is replayed (and the approval service keeps the first request
/// per token should an interrupted invocation send it again).
///
/// The callback id is not a secret (answering needs
/// `lambda:SendDurableExecutionCallbackSuccess` on the function), so it is
/// logged: in this example the log is how the approver gets it.
pub async fn request_approval(ctx: StepCtx, callback_id: String, itinerary: Itinerary) -> Result<(), halo::Error> {
    let trip = &itinerary.trip;
    let request = ApprovalRequest {
        trip_id: trip.trip_id.clone(),
        callback_id: callback_id.clone(),
        total_cents: trip.total_cents,
        currency: trip.currency.clone(),
    };
    ctx.state::<Services>()?.request_approval(&ctx.idempotency_token(), request);
    tracing::info!(
        trip_id = %trip.trip_id,
        callback_id = %callback_id,
        total_cents = trip.total_cents,
        currency = %trip.currency,
        "approval requested: answer with SendDurableExecutionCallbackSuccess"
    );
    Ok(())
}

/// Charges the card once the manager approved; a declined approval fails
/// the step (a 422 `ApprovalDeclined`), and the saga cancels the flight and
/// the hotel.
///
/// `side_effects = true`: a charge that failed may still have gone through
/// (the card service acted, its answer was lost), so the step's own
/// compensation runs too when it fails, refunding by the token; a token
/// that charged nothing is nothing to refund.
#[halo::saga_step(compensate = refund_card, side_effects = true)]
pub async fn charge_card(ctx: &StepCtx, approved: (Itinerary, Approval)) -> Result<Booking, halo::Error> {
    let (itinerary, approval) = approved;
    if !approval.approved {
        return Err(halo::Error::unprocessable("the approval was declined").with_code("ApprovalDeclined"));
    }
    let charge = ctx.state::<Services>()?.charge_card(&ctx.idempotency_token())?;
    Ok(Booking {
        trip_id: itinerary.trip.trip_id,
        hotel_reservation: itinerary.hotel_reservation,
        flight_booking: itinerary.flight_booking,
        charge,
        total_cents: itinerary.trip.total_cents,
        currency: itinerary.trip.currency,
        approved_by: approval.approver,
    })
}

/// Refunds what [`charge_card`] charged, by the step's token (nothing
/// when the approval was declined).
pub async fn refund_card(
    ctx: &StepCtx,
    _approved: (Itinerary, Approval),
    _booking: Option<Booking>,
) -> Result<(), halo::Error> {
    ctx.state::<Services>()?.refund_card(&ctx.idempotency_token());
    Ok(())
}

/// The saga: hotel, flight, the manager's approval (a callback the
/// execution waits for at no cost, up to [`APPROVAL_TIMEOUT`]), then the
/// card.
pub fn trip_saga() -> Saga<Trip, Booking> {
    Saga::new("trip-approval")
        .step(reserve_hotel)
        .step(book_flight)
        .wait_for_callback::<Approval, _, _>(APPROVAL_STEP, Some(APPROVAL_TIMEOUT), request_approval)
        .step(charge_card)
}
