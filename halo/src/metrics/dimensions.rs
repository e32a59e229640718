//! The dimensions every metrics set starts with: `service`, then the
//! container's default dimensions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use arc_swap::{ArcSwap, ArcSwapOption};

use super::error::MetricsError;
use super::set::{Dimensions, MAX_DIMENSIONS_PER_SET};
use super::validate;

/// The container's default dimensions.
static DEFAULTS: LazyLock<ArcSwap<Vec<(String, String)>>> = LazyLock::new(|| ArcSwap::from_pointee(Vec::new()));
/// Bumped on every change of [`DEFAULTS`], so cached bases are rebuilt.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Sets the dimensions every metrics set of this container starts with,
/// after `service` (call it in `init`). Replaces earlier defaults; halo's
/// own built-in metrics keep only `service`.
///
/// ```
/// halo::metrics::set_default_dimensions(&[("environment", "prod")]).unwrap();
/// assert!(halo::metrics::set_default_dimensions(&[("environment", "")]).is_err());
/// # halo::metrics::set_default_dimensions(&[]).unwrap();
/// ```
pub fn set_default_dimensions(dimensions: &[(&str, &str)]) -> Result<(), MetricsError> {
    if dimensions.len() + 1 > MAX_DIMENSIONS_PER_SET {
        return Err(MetricsError::TooManyDimensions { max: MAX_DIMENSIONS_PER_SET });
    }
    for (name, value) in dimensions {
        validate::dimension_name(name)?;
        validate::dimension_value(value)?;
        if *name == "service" {
            return Err(MetricsError::KeyConflict { name: (*name).to_owned() });
        }
    }
    DEFAULTS.store(Arc::new(dimensions.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()));
    GENERATION.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// The base dimensions of one configuration's sets, built once (and again
/// after the defaults change) and shared by every invocation's sets.
#[derive(Debug)]
pub(crate) struct BaseDimensions {
    service: Dimensions,
    with_defaults: ArcSwapOption<(u64, Dimensions)>,
}

impl BaseDimensions {
    pub(crate) fn new(service: &str) -> BaseDimensions {
        BaseDimensions {
            service: Arc::from([("service".to_owned(), service.to_owned())]),
            with_defaults: ArcSwapOption::empty(),
        }
    }

    /// `service` alone (halo's own metrics).
    pub(crate) fn service_only(&self) -> Dimensions {
        Arc::clone(&self.service)
    }

    /// `service`, then the default dimensions.
    pub(crate) fn with_defaults(&self) -> Dimensions {
        let generation = GENERATION.load(Ordering::SeqCst);
        if let Some(cached) = self.with_defaults.load().as_ref()
            && cached.0 == generation
        {
            return Arc::clone(&cached.1);
        }
        let defaults = DEFAULTS.load();
        let base: Dimensions = if defaults.is_empty() {
            Arc::clone(&self.service)
        } else {
            self.service.iter().chain(defaults.iter()).cloned().collect()
        };
        self.with_defaults.store(Some(Arc::new((generation, Arc::clone(&base)))));
        base
    }
}
