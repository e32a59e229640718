//! Which event sources may switch on debug logging for an invocation.

use crate::event::EventSource;

/// The event sources whose incoming `debug-log-enabled: true` halo honours.
///
/// A public HTTP API is reached by anyone, so by default its callers cannot
/// switch on DEBUG logging (a cost and data lever): the default set is the
/// sources that come from inside the account, SQS, SNS, EventBridge,
/// Kinesis, DynamoDB Streams and direct invokes. An untrusted flag is
/// ignored (the invocation is sampled by `HALO_DEBUG_SAMPLE_RATE` as if no
/// flag had been sent). Set it with
/// [`Options::trusted_debug_sources`](crate::Options::trusted_debug_sources)
/// or `HALO_DEBUG_FLAG_SOURCES`, a
/// comma-separated list of source names (`apigateway-rest`,
/// `apigateway-http`, `function-url`, `alb`, `sqs`, `sns`, `eventbridge`,
/// `kinesis`, `dynamodb-stream`, `direct`) and groups (`http` for the four
/// HTTP sources, `internal` for the default set, `all`, `none`).
///
/// ```
/// use halo::correlation::TrustedSources;
/// use halo::event::EventSource;
///
/// let default = TrustedSources::default();
/// assert!(default.contains(EventSource::Sqs));
/// assert!(!default.contains(EventSource::ApiGatewayV2));
///
/// let ours = TrustedSources::default().with(EventSource::Alb { multi_value: true });
/// assert!(ours.contains(EventSource::Alb { multi_value: true }));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrustedSources(u16);

/// The variable that sets [`TrustedSources`] for a function.
pub(crate) const TRUSTED_SOURCES_ENV: &str = "HALO_DEBUG_FLAG_SOURCES";

const ALL_SOURCES: [EventSource; 10] = [
    EventSource::ApiGatewayV1,
    EventSource::ApiGatewayV2,
    EventSource::FunctionUrl,
    EventSource::Alb { multi_value: false },
    EventSource::Sqs,
    EventSource::Sns,
    EventSource::EventBridge,
    EventSource::Kinesis,
    EventSource::DynamoDbStream,
    EventSource::Direct,
];

fn bit(source: EventSource) -> u16 {
    let index = match source {
        EventSource::ApiGatewayV1 => 0,
        EventSource::ApiGatewayV2 => 1,
        EventSource::FunctionUrl => 2,
        EventSource::Alb { .. } => 3,
        EventSource::Sqs => 4,
        EventSource::Sns => 5,
        EventSource::EventBridge => 6,
        EventSource::Kinesis => 7,
        EventSource::DynamoDbStream => 8,
        EventSource::Direct => 9,
    };
    1 << index
}

impl TrustedSources {
    /// No source: an incoming flag is never honoured.
    pub const NONE: TrustedSources = TrustedSources(0);

    /// Every source, HTTP ones included.
    pub fn all() -> TrustedSources {
        ALL_SOURCES.into_iter().fold(TrustedSources::NONE, TrustedSources::with)
    }

    /// The four HTTP sources (API Gateway REST and HTTP APIs, Function URLs, ALB).
    pub fn http() -> TrustedSources {
        ALL_SOURCES.into_iter().filter(|s| s.is_http()).fold(TrustedSources::NONE, TrustedSources::with)
    }

    /// The set with `source` added.
    #[must_use]
    pub fn with(self, source: EventSource) -> TrustedSources {
        TrustedSources(self.0 | bit(source))
    }

    /// The set without `source`.
    #[must_use]
    pub fn without(self, source: EventSource) -> TrustedSources {
        TrustedSources(self.0 & !bit(source))
    }

    /// Whether a flag sent by `source` is honoured.
    pub fn contains(self, source: EventSource) -> bool {
        self.0 & bit(source) != 0
    }

    /// Parses a comma-separated list of source names and groups (see the
    /// type's docs). The error names the first unknown entry.
    pub(crate) fn parse(list: &str) -> Result<TrustedSources, String> {
        let mut set = TrustedSources::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            set = TrustedSources(
                set.0
                    | match name {
                        "all" => TrustedSources::all().0,
                        "none" => 0,
                        "http" => TrustedSources::http().0,
                        "internal" => TrustedSources::default().0,
                        _ => match ALL_SOURCES.into_iter().find(|s| s.name() == name) {
                            Some(source) => bit(source),
                            None => return Err(name.to_owned()),
                        },
                    },
            );
        }
        Ok(set)
    }

    /// The set from `HALO_DEBUG_FLAG_SOURCES`, else the default; an
    /// unknown name is reported in the error (the caller logs it and keeps
    /// the default).
    pub(crate) fn from_env() -> Result<TrustedSources, String> {
        match std::env::var(TRUSTED_SOURCES_ENV) {
            Ok(list) => TrustedSources::parse(&list),
            Err(_) => Ok(TrustedSources::default()),
        }
    }

    pub(crate) fn bits(self) -> u16 {
        self.0
    }

    #[cfg(any(test, feature = "batch"))]
    pub(crate) fn from_bits(bits: u16) -> TrustedSources {
        TrustedSources(bits)
    }
}

impl Default for TrustedSources {
    /// SQS, SNS, EventBridge, Kinesis, DynamoDB Streams and direct invokes.
    fn default() -> TrustedSources {
        ALL_SOURCES.into_iter().filter(|s| !s.is_http()).fold(TrustedSources::NONE, TrustedSources::with)
    }
}

impl std::fmt::Debug for TrustedSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(ALL_SOURCES.into_iter().filter(|s| self.contains(*s)).map(EventSource::name)).finish()
    }
}
