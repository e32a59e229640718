//! strangler: an orders API moving, route by route, from a legacy service
//! to a new one behind a halo strangler façade.
//!
//! - `orders-facade` (HTTP API, every route): the new service's router
//!   (`GET /orders/{id}`, `POST /orders`) inside [`halo::strangler::Strangler`];
//!   which route goes where is the SSM parameter `<ROUTING_PATH>/routes`;
//!   every other request goes to the legacy service (`LEGACY_URL`);
//! - `orders-sync` (SQS): applies each order the new service wrote to the
//!   legacy service, once, with the write's idempotency token as the
//!   legacy call's `Idempotency-Key`.
//!
//! ```text
//! python3 tests/legacy-stub/legacy_stub.py 8081 &
//! LEGACY_URL=http://127.0.0.1:8081 HALO_PARAM_ROUTES='{"GET /orders/{id}":"shadow","POST /orders":"new"}' \
//!     cargo run -p strangler --bin orders-facade -- serve --port 3000
//! ```

pub mod orders;
