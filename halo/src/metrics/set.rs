//! One metrics set: a namespace, its dimensions and dimension sets, its
//! metrics with their values, and metadata; it becomes one EMF line, or
//! several when it outgrows CloudWatch's limits.

use std::sync::Arc;

use super::error::MetricsError;
use super::unit::{Resolution, Unit};
use super::validate;

/// At most this many metrics in one EMF directive.
pub(crate) const MAX_METRICS_PER_LINE: usize = 100;
/// At most this many dimensions in one dimension set.
pub(crate) const MAX_DIMENSIONS_PER_SET: usize = 30;
/// At most this many values of one metric in one EMF line.
pub(crate) const MAX_VALUES_PER_METRIC: usize = 100;

/// Room for the dimensions and metadata of one set, which every line of
/// the set repeats.
pub(crate) const FIXED_BUDGET: usize = 64 * 1024;
/// Room for metric definitions and values in one line, beyond which the
/// line is written early. With [`FIXED_BUDGET`] and the invocation's ids,
/// a line stays far below CloudWatch Logs' 256 KB event limit.
pub(crate) const VALUES_BUDGET: usize = 128 * 1024;
/// The longest rendering of one metadata value; a longer one is cut like
/// a log value.
pub(crate) const MAX_METADATA_VALUE_BYTES: usize = 8 * 1024;

/// Bytes a value may take in a line: `-1.2345678901234567e-308,`.
const VALUE_BYTES: usize = 25;

/// Dimension names and values, shared by the sets of many invocations
/// (`service` and the default dimensions).
pub(crate) type Dimensions = Arc<[(String, String)]>;

/// The values of one metric in a line (most metrics have one).
pub(crate) enum Values {
    One(f64),
    Many(Vec<f64>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::One(_) => 1,
            Values::Many(values) => values.len(),
        }
    }

    fn push(&mut self, value: f64) {
        match self {
            Values::One(first) => *self = Values::Many(vec![*first, value]),
            Values::Many(values) => values.push(value),
        }
    }
}

pub(crate) struct MetricData {
    pub(crate) name: String,
    pub(crate) unit: Unit,
    pub(crate) resolution: Resolution,
    pub(crate) values: Values,
}

pub(crate) struct MetricSet {
    pub(crate) namespace: Arc<str>,
    /// Dimensions every dimension set starts with, shared.
    base: Dimensions,
    /// Dimensions added to this set; with `base`, each name once. A
    /// dimension's index counts `base` first.
    extra: Vec<(String, String)>,
    /// The first dimension set's dimensions beyond `base` (indexes).
    first: Vec<usize>,
    /// Further dimension sets beyond `base` (indexes).
    more: Vec<Vec<usize>>,
    pub(crate) metrics: Vec<MetricData>,
    /// Keys with their values rendered as JSON.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
    fixed_bytes: usize,
    value_bytes: usize,
}

impl MetricSet {
    /// A set whose dimension sets all start with `base` (checked where it
    /// is configured).
    pub(crate) fn new(namespace: Arc<str>, base: Dimensions) -> MetricSet {
        let fixed_bytes = base.iter().map(|(n, v)| 2 * n.len() + v.len() + 9).sum();
        MetricSet {
            namespace,
            base,
            extra: Vec::new(),
            first: Vec::new(),
            more: Vec::new(),
            metrics: Vec::new(),
            metadata: Vec::new(),
            fixed_bytes,
            value_bytes: 0,
        }
    }

    /// Every dimension's name and value, in index order.
    pub(crate) fn dimensions(&self) -> impl Iterator<Item = &(String, String)> {
        self.base.iter().chain(self.extra.iter())
    }

    /// Every dimension set, as the names in it.
    pub(crate) fn dimension_sets(&self) -> impl Iterator<Item = impl Iterator<Item = &str>> {
        std::iter::once(&self.first)
            .chain(self.more.iter())
            .map(|set| self.base.iter().map(|(n, _)| n.as_str()).chain(set.iter().map(|&i| self.name_at(i))))
    }

    fn name_at(&self, index: usize) -> &str {
        match self.base.get(index) {
            Some((name, _)) => name,
            None => &self.extra[index - self.base.len()].0,
        }
    }

    fn position(&self, name: &str) -> Option<(usize, &str)> {
        self.dimensions().enumerate().find(|(_, (n, _))| n == name).map(|(i, (_, v))| (i, v.as_str()))
    }

    /// Adds a value of a metric. A new metric beyond the line's room, or a
    /// metric reaching 100 values, hands the set to `flush` first, which
    /// writes its line (then the set starts over with its dimensions and
    /// metadata).
    pub(crate) fn add_metric(
        &mut self,
        name: &str,
        unit: Unit,
        resolution: Resolution,
        value: f64,
        flush: &mut dyn FnMut(&MetricSet),
    ) -> Result<(), MetricsError> {
        validate::value(name, value)?;
        match self.metrics.iter().position(|m| m.name == name) {
            Some(index) => {
                let metric = &self.metrics[index];
                if metric.unit != unit || metric.resolution != resolution {
                    return Err(MetricsError::DefinitionConflict { metric: name.to_owned() });
                }
                if self.value_bytes + VALUE_BYTES > VALUES_BUDGET {
                    self.flush_metrics(flush);
                    self.push_metric(name, unit, resolution, value);
                } else {
                    let metric = &mut self.metrics[index];
                    metric.values.push(value);
                    self.value_bytes += VALUE_BYTES;
                    if metric.values.len() == MAX_VALUES_PER_METRIC {
                        self.flush_metrics(flush);
                    }
                }
            }
            None => {
                validate::metric_name(name)?;
                self.check_new_root_key(name)?;
                if self.metrics.len() == MAX_METRICS_PER_LINE
                    || self.value_bytes + metric_bytes(name) + VALUE_BYTES > VALUES_BUDGET
                {
                    self.flush_metrics(flush);
                }
                self.push_metric(name, unit, resolution, value);
            }
        }
        Ok(())
    }

    fn push_metric(&mut self, name: &str, unit: Unit, resolution: Resolution, value: f64) {
        self.value_bytes += metric_bytes(name) + VALUE_BYTES;
        self.metrics.push(MetricData { name: name.to_owned(), unit, resolution, values: Values::One(value) });
    }

    /// Adds a dimension to the first dimension set.
    pub(crate) fn add_dimension(&mut self, name: &str, value: &str) -> Result<(), MetricsError> {
        let index = self.dimension(name, value)?;
        if index >= self.base.len() && !self.first.contains(&index) {
            if self.base.len() + self.first.len() == MAX_DIMENSIONS_PER_SET {
                return Err(MetricsError::TooManyDimensions { max: MAX_DIMENSIONS_PER_SET });
            }
            self.first.push(index);
            self.fixed_bytes += name.len() + 3;
        }
        Ok(())
    }

    /// Adds a dimension set: the first set's dimensions plus `pairs`
    /// (Powertools' default dimensions stay in every set).
    pub(crate) fn add_dimension_set(&mut self, pairs: &[(&str, &str)]) -> Result<(), MetricsError> {
        let mut set = self.first.clone();
        // Checked in full before anything changes.
        let mut fresh: Vec<(&str, &str)> = Vec::new();
        for (name, value) in pairs {
            validate::dimension_name(name)?;
            validate::dimension_value(value)?;
            match self.position(name) {
                Some((_, existing)) if existing != *value => {
                    return Err(MetricsError::DimensionConflict { name: (*name).to_owned() });
                }
                Some((i, _)) => {
                    if i >= self.base.len() && !set.contains(&i) {
                        set.push(i);
                    }
                }
                None => {
                    self.check_new_root_key(name)?;
                    if !fresh.iter().any(|(n, _)| n == name) {
                        fresh.push((*name, *value));
                    }
                }
            }
        }
        if self.base.len() + set.len() + fresh.len() > MAX_DIMENSIONS_PER_SET {
            return Err(MetricsError::TooManyDimensions { max: MAX_DIMENSIONS_PER_SET });
        }
        let added: usize = fresh.iter().map(|(n, v)| n.len() * 2 + v.len() + 8).sum::<usize>()
            + set.iter().map(|&i| self.name_at(i).len() + 3).sum::<usize>()
            + self.base.iter().map(|(n, _)| n.len() + 3).sum::<usize>();
        self.reserve(added)?;
        for (name, value) in fresh {
            self.extra.push((name.to_owned(), value.to_owned()));
            set.push(self.base.len() + self.extra.len() - 1);
        }
        if set != self.first && !self.more.contains(&set) {
            self.more.push(set);
        }
        Ok(())
    }

    /// Adds a key logged at the line's root that is not a dimension.
    pub(crate) fn add_metadata(&mut self, key: &str, value: &serde_json::Value) -> Result<(), MetricsError> {
        validate::metadata_key(key)?;
        let mut rendered = Vec::new();
        crate::log::push_bounded_value(&mut rendered, value, MAX_METADATA_VALUE_BYTES);
        match self.metadata.iter().position(|(k, _)| k == key) {
            Some(i) => {
                let old = self.metadata[i].1.len();
                self.fixed_bytes -= old;
                if let Err(err) = self.reserve(rendered.len()) {
                    self.fixed_bytes += old;
                    return Err(err);
                }
                self.metadata[i].1 = rendered;
            }
            None => {
                self.check_new_root_key(key)?;
                self.reserve(key.len() + rendered.len() + 4)?;
                self.metadata.push((key.to_owned(), rendered));
            }
        }
        Ok(())
    }

    /// The index of dimension `name` with `value`, added when new.
    fn dimension(&mut self, name: &str, value: &str) -> Result<usize, MetricsError> {
        validate::dimension_name(name)?;
        validate::dimension_value(value)?;
        if let Some((i, existing)) = self.position(name) {
            return if existing == value {
                Ok(i)
            } else {
                Err(MetricsError::DimensionConflict { name: name.to_owned() })
            };
        }
        self.check_new_root_key(name)?;
        if self.base.len() + self.first.len() == MAX_DIMENSIONS_PER_SET {
            return Err(MetricsError::TooManyDimensions { max: MAX_DIMENSIONS_PER_SET });
        }
        self.reserve(name.len() + value.len() + 6)?;
        self.extra.push((name.to_owned(), value.to_owned()));
        Ok(self.base.len() + self.extra.len() - 1)
    }

    /// A key new to the line's root must not be `_aws` nor already a
    /// metric, dimension or metadata key.
    fn check_new_root_key(&self, key: &str) -> Result<(), MetricsError> {
        let taken = key == validate::AWS_KEY
            || self.metrics.iter().any(|m| m.name == key)
            || self.dimensions().any(|(n, _)| n == key)
            || self.metadata.iter().any(|(k, _)| k == key);
        if taken {
            return Err(MetricsError::KeyConflict { name: key.to_owned() });
        }
        Ok(())
    }

    fn reserve(&mut self, bytes: usize) -> Result<(), MetricsError> {
        if self.fixed_bytes + bytes > FIXED_BUDGET {
            return Err(MetricsError::TooLarge { max: FIXED_BUDGET });
        }
        self.fixed_bytes += bytes;
        Ok(())
    }

    /// The set's line, rendered by `render`, if it holds any metric; its
    /// metrics are cleared.
    pub(crate) fn take_line(&mut self, render: impl FnOnce(&MetricSet) -> Vec<u8>) -> Option<Vec<u8>> {
        if self.metrics.is_empty() {
            return None;
        }
        let line = render(self);
        self.clear_metrics();
        Some(line)
    }

    /// Hands the set to `flush` (which writes its line) when it holds a
    /// metric, then clears its metrics.
    fn flush_metrics(&mut self, flush: &mut dyn FnMut(&MetricSet)) {
        if !self.metrics.is_empty() {
            flush(self);
            self.clear_metrics();
        }
    }

    fn clear_metrics(&mut self) {
        self.metrics.clear();
        self.value_bytes = 0;
    }
}

/// Bytes a metric's name takes in a line: its definition and its root key.
fn metric_bytes(name: &str) -> usize {
    2 * name.len() + 64
}
