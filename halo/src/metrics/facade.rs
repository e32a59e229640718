//! The `metrics` facade crate's recorder: `counter!`, `gauge!` and
//! `histogram!` land in the current invocation's EMF lines.

use crate::lock::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString,
};

use super::{Metrics, Unit};

/// Installs halo's recorder as the `metrics` facade's global recorder:
/// from then on `metrics::counter!("orders").increment(1)` adds a `Count`
/// value to the current invocation's metrics (outside an invocation, the
/// container's), labels become dimensions (a set of their own per label
/// combination), a gauge writes its new value, a histogram each recorded
/// value, with the unit given to `describe_*!` (else `Count` for counters
/// and `None` otherwise). [`run`](crate::run) calls it when metrics are
/// on. Returns `false` when another recorder was installed first.
///
/// ```
/// halo::metrics::install_recorder();
/// metrics::counter!("orders_placed").increment(1);
/// ```
pub fn install_recorder() -> bool {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return true;
    }
    metrics::set_global_recorder(HaloRecorder::default()).is_ok()
}

#[derive(Default)]
struct HaloRecorder {
    units: Arc<Mutex<HashMap<String, Unit>>>,
    gauges: Arc<Mutex<HashMap<Key, f64>>>,
}

impl HaloRecorder {
    fn describe(&self, key: KeyName, unit: Option<metrics::Unit>) {
        if let Some(unit) = unit {
            lock(&self.units).insert(key.as_str().to_owned(), unit_of(unit));
        }
    }

    fn handle(&self, key: &Key, default_unit: Unit) -> Arc<Handle> {
        let unit = lock(&self.units).get(key.name()).copied().unwrap_or(default_unit);
        Arc::new(Handle { key: key.clone(), unit, gauges: Arc::clone(&self.gauges) })
    }
}

impl Recorder for HaloRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<metrics::Unit>, _description: SharedString) {
        self.describe(key, unit);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<metrics::Unit>, _description: SharedString) {
        self.describe(key, unit);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<metrics::Unit>, _description: SharedString) {
        self.describe(key, unit);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handle(key, Unit::Count))
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handle(key, Unit::None))
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.handle(key, Unit::None))
    }
}

/// One facade metric: its key (name and labels) and unit.
struct Handle {
    key: Key,
    unit: Unit,
    gauges: Arc<Mutex<HashMap<Key, f64>>>,
}

impl Handle {
    fn record(&self, value: f64) {
        let labels: Vec<(&str, &str)> = self.key.labels().map(|l| (l.key(), l.value())).collect();
        let metrics = Metrics::current();
        let result = if labels.is_empty() {
            metrics.add_metric(self.key.name(), self.unit, value)
        } else {
            metrics.with_dimensions(&labels).and_then(|set| set.add_metric(self.key.name(), self.unit, value))
        };
        if let Err(err) = result {
            // The facade has no way to return it: logged, once a process.
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(metric = self.key.name(), error_cause = %err, "a metric recorded through the metrics facade was refused");
            }
        }
    }

    fn gauge(&self, change: impl FnOnce(f64) -> f64) {
        let value = {
            let mut gauges = lock(&self.gauges);
            let value = gauges.entry(self.key.clone()).or_insert(0.0);
            *value = change(*value);
            *value
        };
        self.record(value);
    }
}

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        self.record(value as f64);
    }

    fn absolute(&self, value: u64) {
        self.record(value as f64);
    }
}

impl GaugeFn for Handle {
    fn increment(&self, value: f64) {
        self.gauge(|old| old + value);
    }

    fn decrement(&self, value: f64) {
        self.gauge(|old| old - value);
    }

    fn set(&self, value: f64) {
        self.gauge(|_| value);
    }
}

impl HistogramFn for Handle {
    fn record(&self, value: f64) {
        Handle::record(self, value);
    }
}

/// The CloudWatch unit closest to a facade unit (binary sizes take the
/// decimal unit's name; nanoseconds, which CloudWatch lacks, have none).
fn unit_of(unit: metrics::Unit) -> Unit {
    use metrics::Unit as F;
    match unit {
        F::Count => Unit::Count,
        F::Percent => Unit::Percent,
        F::Seconds => Unit::Seconds,
        F::Milliseconds => Unit::Milliseconds,
        F::Microseconds => Unit::Microseconds,
        F::Nanoseconds => Unit::None,
        F::Tebibytes => Unit::Terabytes,
        F::Gibibytes => Unit::Gigabytes,
        F::Mebibytes => Unit::Megabytes,
        F::Kibibytes => Unit::Kilobytes,
        F::Bytes => Unit::Bytes,
        F::TerabitsPerSecond => Unit::TerabitsPerSecond,
        F::GigabitsPerSecond => Unit::GigabitsPerSecond,
        F::MegabitsPerSecond => Unit::MegabitsPerSecond,
        F::KilobitsPerSecond => Unit::KilobitsPerSecond,
        F::BitsPerSecond => Unit::BitsPerSecond,
        F::CountPerSecond => Unit::CountPerSecond,
    }
}
