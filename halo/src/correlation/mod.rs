#![doc = include_str!("../../docs/correlation.md")]

mod extract;
pub(crate) mod header;
mod id;
mod layer;
pub mod propagate;
pub(crate) mod sampling;
mod trust;

pub use extract::extract;
#[cfg(test)]
use extract::extract_record;
pub(crate) use id::MAX_LEN;
pub use id::{generate_id, is_valid_id};
pub(crate) use layer::CorrelationLayer;
pub use trust::TrustedSources;

use crate::event::EventSource;

/// What an incoming event says about correlation, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Incoming {
    /// The event's source.
    pub source: EventSource,
    /// The correlation id it carries, as sent (not yet validated).
    pub correlation_id: Option<String>,
    /// The upstream debug-sampling decision, if any.
    pub debug: Option<bool>,
    /// The caller's name (`x-user-agent`), if any.
    pub caller: Option<String>,
    /// Ids to use, in order, when no valid correlation id was sent: for
    /// HTTP events the API Gateway / ALB request id, then the root of the
    /// `x-amzn-trace-id` header. The first valid one wins; when none is
    /// valid a new id is generated.
    pub fallback_ids: Vec<String>,
}

impl Incoming {
    /// Correlation data from `source`.
    pub fn new(
        source: EventSource,
        correlation_id: Option<String>,
        debug: Option<bool>,
        caller: Option<String>,
    ) -> Self {
        Incoming { source, correlation_id, debug, caller, fallback_ids: Vec::new() }
    }
}

/// Reads correlation data from events of a source halo does not know.
/// Extractors are tried in order before halo's own; the first `Some` wins.
///
/// ```
/// use halo::correlation::{Extractor, Incoming};
/// use halo::event::EventSource;
///
/// /// Our batch jobs carry the id in `job.trace`.
/// struct JobExtractor;
///
/// impl Extractor for JobExtractor {
///     fn extract(&self, event: &str) -> Option<Incoming> {
///         let value: serde_json::Value = serde_json::from_str(event).ok()?;
///         let id = value.pointer("/job/trace")?.as_str()?.to_owned();
///         Some(Incoming::new(EventSource::Direct, Some(id), None, None))
///     }
/// }
/// ```
pub trait Extractor: Send + Sync + 'static {
    /// The correlation data of `event`, or `None` to let the next extractor try.
    fn extract(&self, event: &str) -> Option<Incoming>;
}

/// The correlation of one invocation, after validation and sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Correlation {
    /// The correlation id (valid, incoming or generated).
    pub id: String,
    /// Whether this invocation emits debug lines.
    pub debug: bool,
    /// The caller's name, when it was given and valid.
    pub caller: Option<String>,
    /// The event's source.
    pub source: EventSource,
}

impl Correlation {
    /// A correlation with `id`, not sampled, no caller, source `Direct`.
    pub fn new(id: impl Into<String>) -> Correlation {
        Correlation { id: id.into(), debug: false, caller: None, source: EventSource::Direct }
    }
}

/// Why an incoming id was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Longer than [`MAX_LEN`].
    TooLong,
    /// Empty, or a character outside `[A-Za-z0-9._:/+=-]`.
    BadCharacters,
}

impl Rejected {
    /// Why the id was rejected, for a log line (never the id itself).
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Rejected::TooLong => "longer than 128 characters",
            Rejected::BadCharacters => "empty or has characters outside [A-Za-z0-9._:/+=-]",
        }
    }
}

/// Turns what an event said into the invocation's [`Correlation`]:
/// validates the id, falling back to the first valid one of
/// [`Incoming::fallback_ids`] (the event's own request id, then its trace
/// root), then to a new UUID; and decides debug sampling: the upstream decision when there
/// is one, else a draw against `sample_rate`.
///
/// Returns the rejection reason when an incoming id was replaced.
pub(crate) fn decide(incoming: Incoming, sample_rate: f64) -> (Correlation, Option<Rejected>) {
    let mut rejected = None;
    let id = match incoming.correlation_id {
        Some(id) if is_valid_id(&id) => Some(id),
        Some(id) => {
            rejected = Some(if id.len() > MAX_LEN { Rejected::TooLong } else { Rejected::BadCharacters });
            None
        }
        None => None,
    };
    let id = id.or_else(|| incoming.fallback_ids.into_iter().find(|f| is_valid_id(f))).unwrap_or_else(generate_id);
    let debug = incoming.debug.unwrap_or_else(|| sample_rate > 0.0 && fastrand::f64() < sample_rate);
    let caller = incoming.caller.filter(|c| is_valid_id(c));
    (Correlation { id, debug, caller, source: incoming.source }, rejected)
}

#[cfg(test)]
mod tests;
