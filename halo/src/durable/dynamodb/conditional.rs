//! Did my conditional write land? The answer of a conditional write, the
//! current item when it was refused, and the errors mapped to
//! [`StoreError`] kinds.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::attr::Item;
use crate::durable::StoreError;

/// The answer of a conditional write.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<O> {
    /// The condition held and the write was applied.
    Applied(O),
    /// The condition failed; nothing was written. The item as it is stored
    /// now (`None`: there is none): returned by the store
    /// (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) or, from a store that
    /// does not return it, read consistently. Compare it with what the
    /// write meant to store: a write whose answer was lost and that the SDK
    /// sent again finds its own earlier attempt here.
    Refused(Option<Item>),
}

/// An operation error that can say its condition failed:
/// `PutItem`'s, `UpdateItem`'s and `DeleteItem`'s.
pub trait ConditionalFailure: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// `Some(item)` when the error is a failed condition (`item`: what the
    /// store returned of the current item, if anything).
    fn failed_condition(&self) -> Option<Option<&Item>>;
}

macro_rules! conditional_failure {
    ($($error:ident),*) => {$(
        impl ConditionalFailure for $error {
            fn failed_condition(&self) -> Option<Option<&Item>> {
                match self {
                    $error::ConditionalCheckFailedException(failed) => Some(failed.item()),
                    _ => None,
                }
            }
        }
    )*};
}

conditional_failure!(PutItemError, UpdateItemError, DeleteItemError);

/// The [`StoreError`] of a failed DynamoDB request: too large for an item
/// over the size limit, unavailable otherwise.
pub fn store_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let too_large = err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains("Item size"))
    });
    if too_large { StoreError::too_large(operation, err) } else { StoreError::unavailable(operation, err) }
}

/// Sorts the `result` of a conditional write into [`Written`]; a refused
/// write's current item comes from the answer, or from `read` where the
/// store returned none (a consistent read of the key).
pub(crate) async fn sort<O, E, R>(
    operation: &'static str,
    result: Result<O, SdkError<E, HttpResponse>>,
    read: impl FnOnce() -> R,
) -> Result<Written<O>, StoreError>
where
    E: ConditionalFailure,
    R: Future<Output = Result<Option<Item>, StoreError>>,
{
    match result {
        Ok(output) => Ok(Written::Applied(output)),
        Err(err) => match err.as_service_error().and_then(ConditionalFailure::failed_condition) {
            Some(Some(item)) => Ok(Written::Refused(Some(item.clone()))),
            Some(None) => Ok(Written::Refused(read().await?)),
            None => Err(store_error(operation, err)),
        },
    }
}
