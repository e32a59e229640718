//! [`Projection`] and [`Projector`]: a stream's changes applied to views.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::change::Change;
use super::store::{Applied, Guard, ViewStore};
use super::write::ViewWrite;
use crate::batch::{BatchOptions, BatchResponse, DynamoDbStream};
use crate::{Error, ErrorKind};

/// What one view (or several) makes of a source change. A projection
/// reads only the change: it never reads the views, so applying it twice
/// or in another container gives the same writes.
pub trait Projection: Send + Sync {
    /// The projection's name, stable across deployments: the store
    /// remembers, per name and source item, the last change applied.
    fn name(&self) -> &str;

    /// The writes `change` implies (none is fine).
    ///
    /// # Errors
    ///
    /// A change the projection cannot read: the record is reported as
    /// failed (and, after the event source mapping's retries, sent to its
    /// on-failure destination).
    fn project(&self, change: &Change) -> Result<Vec<ViewWrite>, Error>;
}

/// A [`Projection`] from a name and a function (see [`from_fn`]).
pub struct FnProjection<F> {
    name: String,
    project: F,
}

impl<F> std::fmt::Debug for FnProjection<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnProjection").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The projection named `name` that `project` computes.
pub fn from_fn<F>(name: impl Into<String>, project: F) -> FnProjection<F>
where
    F: Fn(&Change) -> Result<Vec<ViewWrite>, Error> + Send + Sync,
{
    FnProjection { name: name.into(), project }
}

impl<F> Projection for FnProjection<F>
where
    F: Fn(&Change) -> Result<Vec<ViewWrite>, Error> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn project(&self, change: &Change) -> Result<Vec<ViewWrite>, Error> {
        (self.project)(change)
    }
}

/// Applies a source table's changes to its views, each change once per
/// projection and in order per source item, and reads the views.
#[derive(Clone)]
pub struct Projector {
    store: Arc<dyn ViewStore>,
    projections: Vec<Arc<dyn Projection>>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.projections.iter().map(|p| p.name()).collect();
        f.debug_struct("Projector").field("projections", &names).finish_non_exhaustive()
    }
}

impl Projector {
    /// Views kept in `store`, with no projection yet.
    pub fn new(store: Arc<dyn ViewStore>) -> Projector {
        Projector { store, projections: Vec::new() }
    }

    /// Adds `projection`.
    #[must_use]
    pub fn projection(mut self, projection: impl Projection + 'static) -> Projector {
        self.projections.push(Arc::new(projection));
        self
    }

    /// Applies `change` to every projection's views. A projection that had
    /// already applied it (or a later change of the same item) writes
    /// nothing.
    ///
    /// # Errors
    ///
    /// A projection's error, or the store's ([`StoreError`](crate::durable::StoreError)).
    pub async fn apply(&self, change: &Change) -> Result<(), Error> {
        for projection in &self.projections {
            let writes = projection.project(change)?;
            if writes.is_empty() {
                continue;
            }
            let guard = Guard::new(projection.name(), change.key(), change.sequence());
            let applied = self.store.apply(&guard, &writes).await.map_err(|e| e.of(&super::env::STORE))?;
            if applied == Applied::AlreadyApplied {
                tracing::info!(
                    projection = projection.name(),
                    sequence = %change.sequence(),
                    "a change already applied was delivered again: nothing written"
                );
            }
        }
        Ok(())
    }

    /// Applies a DynamoDB Streams batch in order, stopping at the first
    /// record that fails and reporting it, so Lambda retries from there
    /// (with `ReportBatchItemFailures` on the event source mapping).
    ///
    /// # Errors
    ///
    /// As [`DynamoDbStream::process`].
    pub async fn process(&self, batch: DynamoDbStream, options: &BatchOptions) -> Result<BatchResponse, Error> {
        batch
            .process(options, |record| async move {
                let change = Change::from_record(&record)?;
                self.apply(&change).await
            })
            .await
    }

    /// Item `key` of `view`, as `T`.
    ///
    /// # Errors
    ///
    /// The store's error, or an item that is not a `T` (`InvalidView`).
    pub async fn view<T: DeserializeOwned>(&self, view: &str, key: &str) -> Result<Option<T>, Error> {
        let item = self.store.get(view, key).await.map_err(|e| e.of(&super::env::STORE))?;
        item.map(|item| {
            T::deserialize(item).map_err(|_| {
                Error::new(ErrorKind::Internal, "a view item does not have the expected shape").with_code("InvalidView")
            })
        })
        .transpose()
    }
}
