//! Where an invocation's metrics sets live, the [`Metrics`] handle to
//! them, and writing them out at the invocation's end.

use std::sync::{Arc, Mutex};

use super::config::ResolvedMetrics;
use super::emf::{self, LineFacts};
use super::error::MetricsError;
use super::set::MetricSet;
use super::unit::{Resolution, Unit};
use super::validate;
use crate::Ctx;

/// The metrics of one invocation: an extension of its root context, so
/// every batch record of the invocation adds to the same sets.
#[derive(Default)]
pub(crate) struct InvocationMetrics {
    config: Option<Arc<ResolvedMetrics>>,
    /// The main set ([`Metrics::current`]).
    main: Option<MetricSet>,
    /// Other namespaces and dimension sets, by key.
    others: Vec<(SetKey, MetricSet)>,
}

/// Which set of an invocation a [`Metrics`] handle adds to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SetKey {
    /// `None`: the configured namespace.
    namespace: Option<Arc<str>>,
    /// Dimensions the set starts with, besides the service (and, for sets
    /// that are not halo's own, the default dimensions).
    dimensions: Option<Arc<[(String, String)]>>,
    /// halo's operational metrics: the service dimension only.
    builtin: bool,
}

/// Metrics added outside any invocation (init, background tasks): written
/// with the next invocation's, or at shutdown.
static CONTAINER: Mutex<InvocationMetrics> =
    Mutex::new(InvocationMetrics { config: None, main: None, others: Vec::new() });

/// A handle to one metrics set of the current invocation (or, outside any
/// invocation, of the container): cheap to clone, safe to hold across
/// awaits and to hand to spawned tasks.
///
/// [`Metrics::current`] is the invocation's main set, in the configured
/// namespace with the `service` dimension and the default dimensions;
/// [`Metrics::namespace`] and [`Metrics::with_dimensions`] reach other
/// sets of the same invocation, each written as its own EMF line at the
/// invocation's end.
///
/// ```
/// use halo::metrics::{Metrics, MetricsConfig, MetricsOutput, Unit};
/// use halo::log::CapturedLines;
///
/// let lines = CapturedLines::default();
/// let config = MetricsConfig::from_env().namespace("Shop").output(MetricsOutput::Captured(lines.clone()));
/// let ctx = halo::Ctx::for_test();
/// halo::metrics::attach(&ctx, &config).unwrap();
///
/// let metrics = Metrics::of(&ctx);
/// metrics.add_metric("OrdersPlaced", Unit::Count, 1.0).unwrap();
/// metrics.add_dimension("tier", "gold").unwrap();
/// metrics.namespace("Billing").unwrap().add_metric("Charged", Unit::Count, 1.0).unwrap();
/// halo::metrics::flush(&ctx);
///
/// let emf = lines.json();
/// assert_eq!(emf.len(), 2);
/// assert_eq!(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Shop");
/// assert_eq!((emf[0]["OrdersPlaced"].as_f64(), emf[0]["tier"].as_str()), (Some(1.0), Some("gold")));
/// assert_eq!(emf[1]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Billing");
/// ```
#[derive(Clone, Debug)]
pub struct Metrics {
    target: Target,
    key: SetKey,
}

#[derive(Clone, Debug)]
enum Target {
    Invocation(Ctx),
    Container,
}

impl Metrics {
    /// The main set of the invocation this code runs in; outside any
    /// invocation, the container's (written with the next invocation's
    /// metrics, or at shutdown).
    pub fn current() -> Metrics {
        let target = Ctx::with_current(|ctx| match ctx {
            Some(ctx) => Target::Invocation(ctx.invocation_root().clone()),
            None => Target::Container,
        });
        Metrics { target, key: SetKey::default() }
    }

    /// The main set of `ctx`'s invocation.
    pub fn of(ctx: &Ctx) -> Metrics {
        Metrics { target: Target::Invocation(ctx.invocation_root().clone()), key: SetKey::default() }
    }

    /// A set of the same invocation in another namespace (Powertools'
    /// `EphemeralMetrics`): its own dimensions, metrics and metadata,
    /// written as its own line.
    pub fn namespace(&self, namespace: &str) -> Result<Metrics, MetricsError> {
        validate::namespace(namespace)?;
        let key = SetKey { namespace: Some(Arc::from(namespace)), ..self.key.clone() };
        Ok(Metrics { target: self.target.clone(), key })
    }

    /// A set of the same invocation and namespace that starts with these
    /// dimensions too, written as its own line: per-record dimensions in
    /// a batch without mixing records (two handles with the same
    /// dimensions reach the same set).
    pub fn with_dimensions(&self, dimensions: &[(&str, &str)]) -> Result<Metrics, MetricsError> {
        for (name, value) in dimensions {
            validate::dimension_name(name)?;
            validate::dimension_value(value)?;
        }
        let mut all: Vec<(String, String)> = self.key.dimensions.as_deref().map(<[_]>::to_vec).unwrap_or_default();
        all.extend(dimensions.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        let key = SetKey { dimensions: Some(all.into()), ..self.key.clone() };
        Ok(Metrics { target: self.target.clone(), key })
    }

    /// The set halo's own operational metrics of `operation` go to.
    pub(crate) fn builtin(operation: Option<&str>) -> Metrics {
        let mut metrics = Metrics::current();
        metrics.key = SetKey {
            namespace: None,
            dimensions: operation.map(|op| Arc::from([("operation".to_owned(), op.to_owned())])),
            builtin: true,
        };
        metrics
    }

    /// Adds a value of a standard-resolution metric. Adding the same
    /// metric again adds a value (at most 100 per line; more start a new
    /// line).
    pub fn add_metric(&self, name: &str, unit: Unit, value: f64) -> Result<(), MetricsError> {
        self.add_metric_with_resolution(name, unit, Resolution::Standard, value)
    }

    /// Adds a value of a metric stored at `resolution`.
    pub fn add_metric_with_resolution(
        &self,
        name: &str,
        unit: Unit,
        resolution: Resolution,
        value: f64,
    ) -> Result<(), MetricsError> {
        // A durable execution's replayed code recorded its values when it
        // first ran: counted again, they would count once per invocation.
        // (Dimensions and metadata are kept: later values need them.)
        if let Target::Invocation(ctx) = &self.target
            && ctx.is_replaying()
        {
            return Ok(());
        }
        self.with_set(|set, flush| set.add_metric(name, unit, resolution, value, flush))
    }

    /// Adds a dimension to the set's first dimension set (and so to every
    /// metric of the set).
    pub fn add_dimension(&self, name: &str, value: &str) -> Result<(), MetricsError> {
        self.with_set(|set, _| set.add_dimension(name, value))
    }

    /// Adds another dimension set: the same metrics also aggregated by the
    /// first set's dimensions plus these.
    pub fn add_dimension_set(&self, dimensions: &[(&str, &str)]) -> Result<(), MetricsError> {
        self.with_set(|set, _| set.add_dimension_set(dimensions))
    }

    /// Adds a key that is written on the line but is not a dimension
    /// (searchable in CloudWatch Logs Insights, not a metric dimension).
    pub fn add_metadata(&self, key: &str, value: impl Into<serde_json::Value>) -> Result<(), MetricsError> {
        let value = value.into();
        self.with_set(|set, _| set.add_metadata(key, &value))
    }

    fn with_set(
        &self,
        op: impl FnOnce(&mut MetricSet, &mut dyn FnMut(&MetricSet)) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        let (result, warn) = match &self.target {
            Target::Invocation(ctx) => ctx.with_extension(|state: &mut InvocationMetrics| {
                state.apply(&self.key, &LineFacts { ctx: Some(ctx) }, op)
            }),
            Target::Container => {
                let mut state = crate::lock::lock(&CONTAINER);
                state.apply(&self.key, &LineFacts { ctx: None }, op)
            }
        };
        // Logged outside the context's lock (the logger may take it).
        if let Some(config) = warn {
            config.warn_if_unconfigured();
        }
        result
    }
}

impl InvocationMetrics {
    /// Runs `op` on the set `key` names (created when new); returns the
    /// configuration to warn about when metrics are off.
    fn apply(
        &mut self,
        key: &SetKey,
        facts: &LineFacts<'_>,
        op: impl FnOnce(&mut MetricSet, &mut dyn FnMut(&MetricSet)) -> Result<(), MetricsError>,
    ) -> (Result<(), MetricsError>, Option<Arc<ResolvedMetrics>>) {
        let config = Arc::clone(self.config.get_or_insert_with(ResolvedMetrics::current));
        let set = if *key == SetKey::default() {
            self.main.get_or_insert_with(|| {
                MetricSet::new(Arc::clone(config.namespace_arc()), config.base().with_defaults())
            })
        } else {
            match self.others.iter().position(|(k, _)| k == key) {
                Some(index) => &mut self.others[index].1,
                None => match new_set(&config, key) {
                    Ok(set) => {
                        self.others.push((key.clone(), set));
                        &mut self.others.last_mut().expect("just pushed").1
                    }
                    Err(err) => return (Err(err), None),
                },
            }
        };
        let enabled = config.enabled();
        let mut flush = |set: &MetricSet| {
            if enabled {
                config.output().write(&emf::render(set, facts));
            }
        };
        let result = op(set, &mut flush);
        (result, (!enabled).then_some(config))
    }

    /// Writes every set's line (and clears them).
    fn write_out(&mut self, facts: &LineFacts<'_>) {
        let Some(config) = self.config.take() else { return };
        let sets = self.main.take().into_iter().chain(self.others.drain(..).map(|(_, set)| set));
        for mut set in sets {
            if let Some(line) = set.take_line(|set| emf::render(set, facts))
                && config.enabled()
            {
                config.output().write(&line);
            }
        }
    }
}

/// A fresh set for `key`: `service`, then the default dimensions (not for
/// halo's own metrics), then the key's dimensions.
fn new_set(config: &ResolvedMetrics, key: &SetKey) -> Result<MetricSet, MetricsError> {
    let namespace = key.namespace.clone().unwrap_or_else(|| Arc::clone(config.namespace_arc()));
    let base = if key.builtin { config.base().service_only() } else { config.base().with_defaults() };
    let mut set = MetricSet::new(namespace, base);
    for (name, value) in key.dimensions.iter().flat_map(|d| d.iter()) {
        set.add_dimension(name, value)?;
    }
    Ok(set)
}

/// Routes the metrics of `ctx`'s invocation by `config` instead of the
/// process's configuration: what halo's metrics layer does for each
/// invocation, and what a test does to capture a handler's metrics
/// ([`MetricsOutput::Captured`](super::MetricsOutput::Captured)).
///
/// # Errors
///
/// The configuration's error when it does not resolve (metrics required
/// without a namespace).
pub fn attach(ctx: &Ctx, config: &super::MetricsConfig) -> Result<(), MetricsError> {
    attach_shared(ctx, Arc::new(config.resolve()?));
    Ok(())
}

pub(crate) fn attach_shared(ctx: &Ctx, config: Arc<ResolvedMetrics>) {
    ctx.invocation_root().with_extension(|state: &mut InvocationMetrics| state.config = Some(config));
}

/// Writes out the metrics of `ctx`'s invocation, one EMF line per set
/// (the sets are emptied), preceded by the container's metrics added
/// outside any invocation and, for the container's first invocation, the
/// `ColdStart` metric in a line of its own. An invocation that added no
/// metric writes nothing else. halo's metrics layer
/// calls it when the invocation ends, however it ends.
pub fn flush(ctx: &Ctx) {
    let root = ctx.invocation_root();
    // The sets are taken; the routing stays, for anything added later.
    let mut state = root.with_extension(|state: &mut InvocationMetrics| InvocationMetrics {
        config: state.config.clone(),
        main: state.main.take(),
        others: std::mem::take(&mut state.others),
    });
    let config = Arc::clone(state.config.get_or_insert_with(ResolvedMetrics::current));
    flush_container();
    let facts = LineFacts { ctx: Some(root) };
    if root.cold_start() && config.enabled() && config.cold_start_metric() {
        let line = super::emf::cold_start_line(config.namespace(), root.function_name(), config.service(), &facts);
        config.output().write(&line);
    }
    state.write_out(&facts);
}

/// Writes out the metrics added outside any invocation.
pub(crate) fn flush_container() {
    let mut state = std::mem::take(&mut *crate::lock::lock(&CONTAINER));
    state.write_out(&LineFacts { ctx: None });
}
