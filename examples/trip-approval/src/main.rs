//! The trip-approval durable function.
//!
//! Inside Lambda it serves the execution's invocations through the AWS
//! durable execution SDK. Locally, `invoke` runs each execution to its end
//! in memory, the approvals taken from `HALO_LOCAL_CALLBACKS`:
//!
//! ```text
//! HALO_LOCAL_CALLBACKS='[{"approved":true}]' cargo run -p trip-approval -- invoke examples/trip-approval/events/book-trip.json
//! ```

use std::process::ExitCode;

use trip_approval::{book_trip, init};

fn main() -> ExitCode {
    halo::platform::block_on(halo::durable_execution::run_with_init(init(), book_trip))
}
