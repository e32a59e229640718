//! Counting the AWS SDK's HTTP requests with an interceptor, to assert how
//! many requests an operation really sends (retries included).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// An SDK interceptor that counts every request it sees, by operation (its
/// name in the SDK's metadata, e.g. `PutItem`). Clones share their counts.
///
/// Add it to a client with
/// `aws_sdk_dynamodb::config::Builder::from(&sdk_config).interceptor(counter.clone())`
/// (the SSM builder takes it the same way).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl RequestCounter {
    /// Requests seen so far, in all.
    pub fn total(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }

    /// Requests for one operation, by its short name (`PutItem`).
    pub fn count(&self, operation: &str) -> usize {
        self.counts.lock().unwrap().get(operation).copied().unwrap_or(0)
    }

    /// Requests by operation.
    pub fn by_operation(&self) -> BTreeMap<String, usize> {
        self.counts.lock().unwrap().clone()
    }

    /// Forgets the counts.
    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "halo-test-support::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let operation = match cfg.load::<Metadata>() {
            Some(metadata) => metadata.name().to_owned(),
            None => {
                let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
                target.rsplit('.').next().unwrap_or(target).to_owned()
            }
        };
        *self.counts.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}
