#![doc = include_str!("../../docs/feature-flags.md")]

mod condition;
mod context;
mod error;
mod raw;
mod schema;
mod time;

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use context::FlagContext;
pub use error::FlagsError;
pub use schema::FlagDocument;

use crate::params::LiveConfig;
use crate::platform::Clock;
use crate::platform::system_clock;
use schema::{Now, truthy};

/// Evaluates the flags of a [`FlagDocument`] held in a [`LiveConfig`] (so
/// it follows its source, refreshed in the background), as Powertools'
/// `FeatureFlags` does. Cheap to clone (clones share the document).
///
/// ```
/// use halo::feature_flags::{FeatureFlags, FlagDocument};
/// use halo::params::LiveConfig;
/// use serde_json::json;
///
/// let document = FlagDocument::from_json(r#"{
///     "premium_features": {
///         "default": false,
///         "rules": {
///             "customer tier equals premium": {
///                 "when_match": true,
///                 "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]
///             }
///         }
///     }
/// }"#)?;
/// let flags = FeatureFlags::new(LiveConfig::fixed(document));
/// let context = json!({"tier": "premium"});
/// assert!(flags.is_enabled("premium_features", &context, false));
/// assert!(!flags.is_enabled("premium_features", &json!({"tier": "basic"}), false));
/// assert!(flags.is_enabled("no_such_flag", &context, true), "the default given");
/// # Ok::<(), halo::feature_flags::FlagsError>(())
/// ```
#[derive(Clone)]
pub struct FeatureFlags {
    document: LiveConfig<FlagDocument>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for FeatureFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureFlags").field("document", &self.document).finish_non_exhaustive()
    }
}

impl FeatureFlags {
    /// Flags evaluated from `document`, on the system clock.
    pub fn new(document: LiveConfig<FlagDocument>) -> FeatureFlags {
        FeatureFlags { document, clock: system_clock() }
    }

    /// The clock the schedule conditions read (the system clock by
    /// default; a [`ManualClock`](crate::platform::ManualClock) in tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> FeatureFlags {
        self.clock = clock;
        self
    }

    /// Whether the flag `name` is on for `context`: its value (the
    /// `when_match` of its first matching rule, else its `default`) is
    /// true in Python's sense, as in an `if` on Powertools' `evaluate`
    /// (for a non-boolean flag: not `null`, `false`, `0`, `""`, `[]` or
    /// `{}`). `default` when the document has no such flag.
    ///
    /// Allocates nothing (the document is read from memory, the context
    /// where it is).
    pub fn is_enabled(&self, name: &str, context: &(impl FlagContext + ?Sized), default: bool) -> bool {
        let document = self.document.get();
        let read = || self.clock.now_ms();
        document.value(name, context, &mut Now::new(&read)).map_or(default, truthy)
    }

    /// The value of the flag `name` for `context` (Powertools' `evaluate`):
    /// the `when_match` of its first matching rule, else its `default`,
    /// deserialized into `T`; `default` when the document has no such
    /// flag. A boolean flag's value is a `bool`; a non-boolean flag's rule
    /// without `when_match` gives `null` (as in Powertools: read it into an
    /// `Option`).
    ///
    /// Errors: the value does not fit `T` (the error names the flag).
    ///
    /// ```
    /// use halo::feature_flags::{FeatureFlags, FlagDocument};
    /// use halo::params::LiveConfig;
    /// use serde_json::json;
    ///
    /// let document = FlagDocument::from_json(r#"{
    ///     "page_size": {
    ///         "default": 20,
    ///         "boolean_type": false,
    ///         "rules": {
    ///             "bulk clients": {
    ///                 "when_match": 500,
    ///                 "conditions": [{"action": "IN", "key": "client", "value": ["etl", "backup"]}]
    ///             }
    ///         }
    ///     }
    /// }"#)?;
    /// let flags = FeatureFlags::new(LiveConfig::fixed(document));
    /// assert_eq!(flags.evaluate("page_size", &[("client", json!("etl"))], 10_u32)?, 500);
    /// assert_eq!(flags.evaluate("page_size", &[("client", json!("web"))], 10_u32)?, 20);
    /// assert_eq!(flags.evaluate("no_such_flag", &(), 10_u32)?, 10);
    /// assert!(flags.evaluate::<bool>("page_size", &(), false).is_err());
    /// # Ok::<(), halo::feature_flags::FlagsError>(())
    /// ```
    pub fn evaluate<T: DeserializeOwned>(
        &self,
        name: &str,
        context: &(impl FlagContext + ?Sized),
        default: T,
    ) -> Result<T, FlagsError> {
        let document = self.document.get();
        let read = || self.clock.now_ms();
        match document.value(name, context, &mut Now::new(&read)) {
            None => Ok(default),
            Some(value) => T::deserialize(value)
                .map_err(|err| FlagsError::of_flag(name, format!("the value does not fit the type asked for: {err}"))),
        }
    }

    /// The names of the flags on for `context`, in the document's order
    /// (Powertools' `get_enabled_features`): those whose value is true in
    /// Python's sense, non-boolean flags included.
    pub fn enabled_features(&self, context: &(impl FlagContext + ?Sized)) -> Vec<String> {
        let document = self.document.get();
        let read = || self.clock.now_ms();
        document.enabled(context, &mut Now::new(&read)).into_iter().map(str::to_owned).collect()
    }
}
