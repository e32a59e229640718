//! What halo's own tests and benchmarks reach that service authors do not
//! (feature `test-support`, which is not part of the public API and not
//! covered by semver): the handler service and halo's stack around it.

/// Serving a router under a stack of one's own.
#[cfg(feature = "axum")]
pub use crate::http::server::router::{handle_event, with_halo_layers};
pub use crate::runtime::handler::HandlerService;
pub use crate::runtime::http_response::error_response;
pub use crate::runtime::stack::stack;

/// The one-line description of an init error, as the runtime logs it.
pub fn describe_init_error<E: std::fmt::Display + 'static>(err: &E) -> String {
    crate::error::init::describe_init_error(err)
}

/// Where an event came from, as an invocation decides it.
pub fn detect(event: &str) -> crate::event::EventSource {
    crate::event::detect(event)
}

/// Decodes an event's JSON into `E`, as the handler service does.
///
/// # Errors
///
/// An `InvalidEvent` error, as the handler service answers.
pub fn decode_event<E: serde::de::DeserializeOwned>(payload: &str) -> Result<E, crate::Error> {
    crate::runtime::handler::decode_event(payload)
}

/// The correlation an invocation of `incoming` gets, debug-sampled at
/// `sample_rate`.
pub fn decide(incoming: crate::correlation::Incoming, sample_rate: f64) -> crate::correlation::Correlation {
    crate::correlation::decide(incoming, sample_rate).0
}

/// Installs `config` as the process's metrics configuration, as `run` does.
///
/// # Panics
///
/// When `config` does not resolve.
pub fn install_metrics(config: &crate::metrics::MetricsConfig) {
    config.resolve().expect("the metrics configuration resolves").install();
}

/// Fan-out internals halo's tests reach: the message attribute of a part's
/// index, the table layout, and the in-memory queue's delivery steps.
#[cfg(feature = "fanout")]
pub mod fanout {
    use aws_lambda_events::event::sqs::SqsMessage;

    use crate::durable::TableSpec;
    use crate::fanout::MemoryDispatcher;

    /// The message attribute holding a part's index.
    pub const PART_ATTRIBUTE: &str = crate::fanout::dispatch::PART_ATTRIBUTE;

    /// The layout of the fan-out table.
    pub fn table_spec() -> TableSpec {
        crate::fanout::table_spec()
    }

    /// Takes up to `max` waiting messages of `queue`, counting a delivery
    /// of each.
    pub fn take(queue: &MemoryDispatcher, max: usize) -> Vec<SqsMessage> {
        queue.take(max)
    }

    /// Puts `messages` back at the end of `queue` (a redelivery).
    pub fn put_back(queue: &MemoryDispatcher, messages: Vec<SqsMessage>) {
        queue.put_back(messages);
    }
}

/// The layout of the views table halo's tests check example templates
/// against.
#[cfg(all(feature = "batch", feature = "dynamodb"))]
pub mod projection {
    use crate::durable::TableSpec;

    /// The layout of the views table.
    pub fn table_spec() -> TableSpec {
        crate::projection::table_spec()
    }
}

/// The layout of the shared cache tier's table.
#[cfg(feature = "dynamodb")]
pub mod cache {
    use crate::durable::TableSpec;

    /// The layout of the shared cache tier's table.
    pub fn table_spec() -> TableSpec {
        crate::cache::table_spec()
    }
}
