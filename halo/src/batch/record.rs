//! Running one record in its own scope: its own correlation id, its
//! message id on every log line, its own debug buffer, its failure logged.

use std::future::Future;

use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::correlation::{Incoming, decide};
use crate::retry::{Backoff, retry};
use crate::{Ctx, Error, IntoError};

/// Runs `attempt` under `policy`: again on a retryable error, never past
/// the current invocation's budget.
pub(crate) async fn with_retries<F, Fut>(policy: Backoff, mut attempt: F) -> Result<(), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    if policy.attempt_limit() <= 1 {
        return attempt().await;
    }
    let policy = match Ctx::with_current(|ctx| ctx.map(Ctx::budget_deadline)) {
        Some(deadline) => policy.deadline(deadline),
        None => policy,
    };
    let outcome = retry(&policy, |_| attempt(), |err: &Error| err.kind().is_retryable()).await;
    if outcome.attempts > 1 {
        tracing::info!(attempts = outcome.attempts, succeeded = outcome.result.is_ok(), "record retried in place");
    }
    outcome.result
}

/// The trace context a record's producer sent with it (read only when
/// tracing is on): a W3C `traceparent` message attribute, or SQS's
/// `AWSTraceHeader` (X-Ray).
#[derive(Debug, Default)]
pub(crate) struct Producer {
    pub(crate) traceparent: Option<String>,
    pub(crate) xray: Option<String>,
}

/// Runs `work` for the record `id` in a child context of the current
/// invocation with the record's own correlation, in a span of its own
/// linked to `producer`'s trace. Returns whether it succeeded; a failure is
/// logged (with the record's ids) and flushes the record's buffered debug
/// lines.
pub(crate) async fn run_record<Fut, E>(id: &str, incoming: Incoming, producer: Producer, work: Fut) -> bool
where
    Fut: Future<Output = Result<(), E>>,
    E: IntoError,
{
    let span = crate::trace::span!(
        "batch.record",
        otel.kind = "consumer",
        messaging.system = incoming.source.name(),
        messaging.message.id = %id,
        error.type = tracing::field::Empty,
    );
    crate::trace::link_to(&span, producer.traceparent.as_deref(), producer.xray.as_deref());
    run_record_in(id, incoming, work, &span).instrument(span.clone()).await
}

async fn run_record_in<Fut, E>(id: &str, incoming: Incoming, work: Fut, span: &tracing::Span) -> bool
where
    Fut: Future<Output = Result<(), E>>,
    E: IntoError,
{
    let parent = Ctx::current();
    let ctx = match &parent {
        Some(parent) => parent.for_record(),
        None => Ctx::builder(id).build(),
    };
    let source = incoming.source;
    let mut incoming = incoming;
    if !ctx.trusted_debug_sources().contains(incoming.source) {
        incoming.debug = None;
    }
    let sent_len = incoming.correlation_id.as_ref().map(String::len);
    let (mut correlation, rejected) = decide(incoming, 0.0);
    // Sampled at the edge: the whole batch's records are sampled with it.
    correlation.debug |= parent.as_ref().is_some_and(Ctx::debug_sampled);
    ctx.set_correlation(correlation);
    if !id.is_empty() {
        ctx.append_log_key("message_id", id);
    }
    ctx.scope(async move {
        if id.is_empty() {
            tracing::warn!("the record has no message id or sequence number: it cannot be reported alone, so its failure fails the whole batch");
        }
        if let Some(reason) = rejected {
            tracing::warn!(
                rejected_length = sent_len,
                reason = reason.reason(),
                "the record's correlation id was replaced by a new one"
            );
        }
        match work.await {
            Ok(()) => true,
            Err(err) => {
                let err = err.into_error();
                span.record("error.type", err.code());
                crate::log::flush_debug_buffer();
                let chain = err.source_chain();
                let cause = (!chain.is_empty()).then_some(chain.as_str());
                tracing::error!(
                    error_code = err.code(),
                    error_message = err.message(),
                    error_cause = cause,
                    "record failed"
                );
                crate::metrics::builtin::count(crate::metrics::builtin::BATCH_RECORD_FAILED, Some(source.name()));
                false
            }
        }
    })
    .await
}

/// Decodes a record body (JSON text) into `T`, naming the failing field but
/// never quoting the body (see [`crate::runtime::handler::decode_json`]).
pub(crate) fn decode_body<T: DeserializeOwned>(body: &str) -> Result<T, Error> {
    crate::runtime::handler::decode_json(body, "the record body")
        .map_err(|message| Error::bad_request(message).with_code("InvalidRecord"))
}
