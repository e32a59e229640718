//! The logger every benchmark measures with: halo's JSON layer writing to
//! a sink, at INFO.

use tracing_subscriber::layer::SubscriberExt as _;

/// Installs the JSON logger writing to a sink, at INFO, as the global
/// subscriber (once per process).
pub(crate) fn install_logger() {
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(std::io::sink));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    let mut settings = halo::log::LogSettings::current();
    settings.level = tracing_subscriber::filter::LevelFilter::INFO;
    settings.apply();
}
