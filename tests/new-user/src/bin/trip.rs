//! The guide's `docs/sagas.md`, "In a function" (its step is also in
//! README "A tour"): a trip booked in two steps, the hotel compensated when
//! the flight fails, with the services `init` built as the saga's state.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use halo::saga::log::SagaLog;
use halo::saga::{Saga, StepCtx};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Trip { destination: String, hotel: Option<String>, flight: Option<String> }

#[derive(Deserialize)]
struct TripRequest { trip_id: String, trip: Trip }

/// What `init` builds once per container (an HTTP client, a base URL...).
struct Services { hotels: Hotels }

struct Hotels;

impl Hotels {
    async fn book(&self, token: &str) -> Result<String, halo::Error> {
        tracing::info!(token, "hotel booked");
        Ok(format!("hotel-{token}"))
    }

    async fn cancel(&self, id: &str) -> Result<(), halo::Error> {
        tracing::info!(id, "hotel cancelled");
        Ok(())
    }
}

#[halo::saga_step(compensate = cancel_hotel, retry(attempts = 3, initial_delay = "50ms"))]
async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = ctx.state::<Services>()?.hotels.book(&ctx.idempotency_token()).await?; // "<saga_id>/book_hotel": stable across retries
    Ok(Trip { hotel: Some(id), ..trip })
}

async fn cancel_hotel(ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    let hotel = booked.and_then(|t| t.hotel).unwrap_or_else(|| format!("hotel-{}", ctx.idempotency_token()));
    tracing::info!(destination = %trip.destination, "cancelling");
    ctx.state::<Services>()?.hotels.cancel(&hotel).await
}

#[halo::saga_step]
async fn book_flight(_ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    if trip.destination == "nowhere" {
        return Err(halo::Error::unprocessable("no flight goes there").with_code("NoFlight"));
    }
    Ok(Trip { flight: Some(format!("flight-to-{}", trip.destination)), ..trip })
}

struct State { saga: Saga<Trip>, log: std::sync::Arc<dyn SagaLog> }

async fn init() -> Result<State, halo::Error> {
    let saga = Saga::new("trip").step(book_hotel).step(book_flight).state(Services { hotels: Hotels });
    let log = halo::saga::log_from_env().await?; // DynamoDB (HALO_SAGA_TABLE) in Lambda, memory locally
    Ok(State { saga, log })
}

#[halo::handler(init = init)]
async fn handler(request: ApiGatewayProxyRequest, _ctx: &halo::Ctx, state: &State)
    -> Result<halo::JsonResponse, halo::Error> {
    let request: TripRequest = halo::decode_body(request.body.as_deref().unwrap_or_default())?;
    let trip = state.saga.run(&*state.log, &request.trip_id, request.trip).await?; // SagaError converts to a 409 / 500 / 503 halo::Error
    halo::JsonResponse::new(201, &trip)
}
