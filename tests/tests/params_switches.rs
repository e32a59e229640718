//! Run-time switches from SSM (moto over loopback): the log level follows
//! its parameter on every refresh, without a redeploy. A separate test
//! binary, because the log level is process-wide.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use halo::params::{LiveConfig, LogSwitches, Params, SsmSource};
use halo_test_support::moto::{Moto, unique_name};
use serde::Deserialize;
use tracing_subscriber::filter::LevelFilter;

#[derive(Debug, Deserialize)]
struct Settings {
    #[serde(default)]
    log: LogSwitches,
}

async fn put(client: &aws_sdk_ssm::Client, name: &str, value: &str) {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
}

#[tokio::test]
async fn log_level_and_sample_rate_follow_their_parameters() {
    let moto = Moto::shared();
    let client = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    let path = format!("/{}/switches", unique_name("halo-params"));
    put(&client, &format!("{path}/log/level"), "debug").await;
    put(&client, &format!("{path}/log/debug_sample_rate"), "0.1").await;

    let config: LiveConfig<Settings> = Params::new(SsmSource::new(client.clone())).load(&path).await.unwrap();
    let rates = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&rates);
    config.on_change(move |settings| {
        settings.log.apply();
        seen.lock().unwrap().push(settings.log.debug_sample_rate);
    });
    assert_eq!(halo::log::LogSettings::current().level, LevelFilter::DEBUG);

    put(&client, &format!("{path}/log/level"), "WARNING").await;
    put(&client, &format!("{path}/log/debug_sample_rate"), "0.5").await;
    let _stale = config.get_within(Duration::ZERO);
    config.refreshed().await;
    assert_eq!(halo::log::LogSettings::current().level, LevelFilter::WARN, "changed by the background refresh");
    assert_eq!(*rates.lock().unwrap(), vec![Some(0.1), Some(0.5)]);
    assert_eq!(halo::log::LogSettings::current().debug_sample_rate, 0.5, "the sampling logger's rate follows too");

    // An invalid level fails the refresh: the previous switches stay.
    put(&client, &format!("{path}/log/level"), "loud").await;
    let err = config.refresh().await.unwrap_err();
    assert_eq!(err.path(), Some(format!("{path}/log/level").as_str()), "{err}");
    assert!(err.to_string().contains("not a log level"), "{err}");
    assert_eq!(halo::log::LogSettings::current().level, LevelFilter::WARN);
    assert_eq!(config.get().log.level, Some(LevelFilter::WARN));
    halo::log::LogSettings { level: LevelFilter::INFO, debug_sample_rate: 0.0, ..halo::log::LogSettings::current() }
        .apply();
}
