//! One mapping of AWS SDK errors to [`ParamsError`]s, for every AWS source:
//! the message names the service, the operation and the parameter; the
//! cause carries the SDK's own description (never a value).

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::{ParamsError, ParamsErrorKind};

/// The kind of an AWS error code every service shares, if it is one.
fn common_kind(code: &str) -> Option<ParamsErrorKind> {
    match code {
        "ThrottlingException"
        | "TooManyRequestsException"
        | "TooManyUpdates"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded" => Some(ParamsErrorKind::Throttled),
        "AccessDeniedException" | "UnrecognizedClientException" | "ExpiredTokenException" => {
            Some(ParamsErrorKind::AccessDenied)
        }
        "ValidationException" => Some(ParamsErrorKind::Config),
        _ => None,
    }
}

/// Maps an SDK error of `service`'s `operation` on `at`; `specific` sorts
/// the service's own error codes (`None`: unavailable).
pub(crate) fn sdk_error<E, R>(
    err: SdkError<E, R>,
    service: &str,
    operation: &str,
    at: &str,
    specific: fn(&str) -> Option<ParamsErrorKind>,
) -> ParamsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(service_error) => {
            let code = service_error.err().code().unwrap_or_default();
            common_kind(code).or_else(|| specific(code)).unwrap_or(ParamsErrorKind::Unavailable)
        }
        SdkError::ConstructionFailure(_) => ParamsErrorKind::Config,
        _ => ParamsErrorKind::Unavailable,
    };
    let what = match kind {
        ParamsErrorKind::Throttled => format!("{service} throttled {operation}"),
        ParamsErrorKind::AccessDenied => format!("access denied to {service} {operation}"),
        ParamsErrorKind::NotFound => format!("{service} found nothing for {operation}"),
        ParamsErrorKind::Config => format!("{service} refused {operation}"),
        _ if matches!(err, SdkError::ServiceError(_)) => format!("{service} failed {operation}"),
        _ => format!("cannot reach {service} for {operation}"),
    };
    let cause = DisplayErrorContext(&err).to_string();
    ParamsError::new(kind, what).at(at).with_source(cause)
}
