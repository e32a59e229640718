//! aggregator: the Aggregator pattern. `GET /invoices/{id}` calls the
//! customers, orders and payments services concurrently, each behind its
//! own circuit breaker (state shared by the fleet through DynamoDB) with a
//! fallback that answers with a partial result flagged as degraded.

pub mod services;
