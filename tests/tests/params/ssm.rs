//! `halo::params` against SSM Parameter Store emulated by moto, over
//! loopback: typed loads, pagination, single parameters, the cache and its
//! background refresh, refresh failures, and secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::types::ParameterType;
use halo::params::{GetOptions, LiveConfig, Params, ParamsErrorKind, RefreshPolicy, Secret, SsmSource};
use halo::retry::Backoff;
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;

const SECRET: &str = "s3cr3t-Pa55word-9f1c";

/// An SSM client for `moto` that counts its requests and never retries by
/// itself (halo's refresh policy does).
async fn client(moto: &Moto, counter: &RequestCounter) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::config::Builder::from(&moto.sdk_config().await)
        .interceptor(counter.clone())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

async fn put(client: &aws_sdk_ssm::Client, name: &str, value: &str, kind: ParameterType) {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
}

fn fast_policy() -> RefreshPolicy {
    RefreshPolicy::new(
        Backoff::new(2).initial_delay(Duration::from_millis(5)),
        Backoff::new(u32::MAX).initial_delay(Duration::from_millis(5)).without_jitter(),
    )
}

#[derive(Debug, Deserialize)]
struct Db {
    host: String,
    port: u16,
    password: Secret<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Features {
    beta: bool,
    max_items: u32,
}

#[derive(Debug, Deserialize)]
struct Settings {
    greeting: String,
    origins: Vec<String>,
    db: Db,
    features: Features,
    weights: Vec<f64>,
    #[serde(default)]
    optional: Option<String>,
}

/// Puts a full `Settings` under `path`, plus a neighbour outside it.
async fn put_settings(client: &aws_sdk_ssm::Client, path: &str) {
    put(client, &format!("{path}/greeting"), "hello", ParameterType::String).await;
    put(client, &format!("{path}/origins"), "https://a.example,https://b.example", ParameterType::StringList).await;
    put(client, &format!("{path}/db/host"), "db.internal", ParameterType::String).await;
    put(client, &format!("{path}/db/port"), "5432", ParameterType::String).await;
    put(client, &format!("{path}/db/password"), SECRET, ParameterType::SecureString).await;
    put(client, &format!("{path}/features"), r#"{"beta": true, "max_items": 25}"#, ParameterType::String).await;
    put(client, &format!("{path}/weights"), "[0.5, 1.5]", ParameterType::String).await;
    put(client, &format!("{path}-neighbour/greeting"), "not mine", ParameterType::String).await;
}

#[tokio::test]
async fn loads_a_nested_struct_from_every_parameter_type() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = client(moto, &counter).await;
    let path = format!("/{}/app", unique_name("halo-params"));
    put_settings(&client, &path).await;
    counter.reset();

    let params = Params::new(SsmSource::new(client));
    let config: LiveConfig<Settings> = params.load(&format!("{path}/")).await.expect("load");
    let settings = config.get();
    assert_eq!(settings.greeting, "hello", "prefix stripped, neighbour path ignored");
    assert_eq!(settings.origins, ["https://a.example", "https://b.example"], "StringList");
    assert_eq!(settings.db.host, "db.internal");
    assert_eq!(settings.db.port, 5432, "JSON number into u16");
    assert_eq!(settings.db.password.expose(), SECRET, "SecureString read decrypted");
    assert_eq!(settings.features, Features { beta: true, max_items: 25 }, "JSON object");
    assert_eq!(settings.weights, [0.5, 1.5], "JSON array");
    assert_eq!(settings.optional, None);
    assert_eq!(config.path(), path);
    assert_eq!(counter.count("GetParametersByPath"), 1, "{:?}", counter.by_operation());
    assert!(!format!("{settings:?} {config:?}").contains(SECRET));
}

#[tokio::test]
async fn reads_every_page_of_a_path_with_more_than_ten_parameters() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = client(moto, &counter).await;
    let path = format!("/{}/many", unique_name("halo-params"));
    for i in 0..23 {
        put(&client, &format!("{path}/items/key{i:02}"), &i.to_string(), ParameterType::String).await;
    }
    counter.reset();

    #[derive(Deserialize)]
    struct Many {
        items: BTreeMap<String, u32>,
    }
    let config: LiveConfig<Many> = Params::new(SsmSource::new(client)).load(&path).await.expect("load");
    let items = &config.get().items;
    assert_eq!(items.len(), 23);
    assert_eq!(items["key00"], 0);
    assert_eq!(items["key22"], 22);
    assert!(counter.count("GetParametersByPath") >= 3, "10 per page at most: {:?}", counter.by_operation());
}

#[tokio::test]
async fn single_parameters_are_read_in_chunks_of_ten_and_cached() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = client(moto, &counter).await;
    let path = format!("/{}/single", unique_name("halo-params"));
    let names: Vec<String> = (0..12).map(|i| format!("{path}/n{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        put(&client, name, &i.to_string(), ParameterType::String).await;
    }
    put(&client, &format!("{path}/key"), SECRET, ParameterType::SecureString).await;
    put(&client, &format!("{path}/list"), "a,b", ParameterType::StringList).await;
    counter.reset();

    let params = Params::new(SsmSource::new(client));
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let values: BTreeMap<String, u8> = params.get_many(&refs, GetOptions::new()).await.expect("get_many");
    assert_eq!(values.len(), 12);
    assert_eq!(values[&names[11]], 11);
    assert_eq!(counter.count("GetParameters"), 2, "12 names = 2 chunks: {:?}", counter.by_operation());

    let key: Secret<String> = params.get(&format!("{path}/key")).await.unwrap();
    assert_eq!(key.expose(), SECRET);
    let list: Vec<String> = params.get(&format!("{path}/list")).await.unwrap();
    assert_eq!(list, ["a", "b"]);
    let before = counter.total();
    let again: u8 = params.get(&names[3]).await.unwrap();
    let _: Secret<String> = params.get(&format!("{path}/key")).await.unwrap();
    assert_eq!((again, counter.total()), (3, before), "served from the cache");
    let _: u8 = params.get_with(&names[3], GetOptions::new().force()).await.unwrap();
    assert_eq!(counter.total(), before + 1, "force reads SSM");

    let err = params.get::<String>(&format!("{path}/absent")).await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::NotFound);
    assert_eq!(err.path(), Some(format!("{path}/absent").as_str()));
}

#[tokio::test]
async fn no_request_within_the_max_age_then_stale_while_revalidate() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = client(moto, &counter).await;
    let path = format!("/{}/cache", unique_name("halo-params"));
    put(&client, &format!("{path}/greeting"), "v1", ParameterType::String).await;

    #[derive(Deserialize)]
    struct Greeting {
        greeting: String,
    }
    let params = Params::new(SsmSource::new(client.clone())).refresh_policy(fast_policy());
    counter.reset();
    let config: LiveConfig<Greeting> = params.load(&path).await.unwrap();
    assert_eq!(counter.total(), 1);

    // Within the max age (300 s by default): memory only.
    for _ in 0..1_000 {
        assert_eq!(config.get().greeting, "v1");
    }
    assert_eq!(counter.total(), 1, "{:?}", counter.by_operation());
    assert!(!config.is_refreshing());

    // Past the max age (zero for this call): the stale value comes back at
    // once, one background refresh reads the new one.
    put(&client, &format!("{path}/greeting"), "v2", ParameterType::String).await;
    counter.reset();
    assert_eq!(config.get_within(Duration::ZERO).greeting, "v1", "stale value served without waiting");
    assert!(config.is_refreshing());
    assert_eq!(config.get_within(Duration::ZERO).greeting, "v1", "still stale while the refresh runs");
    config.refreshed().await;
    assert_eq!(config.get().greeting, "v2");
    assert_eq!(counter.count("GetParametersByPath"), 1, "one refresh for two stale reads");

    // The same with a path loaded with a small max age.
    let short: LiveConfig<Greeting> = params.load_with(&path, Duration::from_millis(50)).await.unwrap();
    put(&client, &format!("{path}/greeting"), "v3", ParameterType::String).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while short.age() < Duration::from_millis(50) {
        assert!(std::time::Instant::now() < deadline, "the value never aged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(short.get().greeting, "v2");
    short.refreshed().await;
    assert_eq!(short.get().greeting, "v3");

    // A forced refresh waits for SSM.
    put(&client, &format!("{path}/greeting"), "v4", ParameterType::String).await;
    config.refresh().await.unwrap();
    assert_eq!(config.get().greeting, "v4");
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_stale_value_and_warns() {
    let moto = Moto::start();
    let counter = RequestCounter::default();
    let client = client(&moto, &counter).await;
    let path = format!("/{}/down", unique_name("halo-params"));
    put(&client, &format!("{path}/greeting"), "kept", ParameterType::String).await;
    put(&client, &format!("{path}/password"), SECRET, ParameterType::SecureString).await;

    #[derive(Debug, Deserialize)]
    struct Down {
        greeting: String,
        password: Secret<String>,
    }
    let params = Params::new(SsmSource::new(client)).refresh_policy(fast_policy());
    let config: LiveConfig<Down> = params.load_with(&path, Duration::ZERO).await.unwrap();
    moto.stop();

    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    counter.reset();
    assert_eq!(config.get().greeting, "kept");
    config.refreshed().await;
    assert_eq!(config.get_within(Duration::MAX).greeting, "kept", "the stale value stays");
    assert_eq!(config.get_within(Duration::MAX).password.expose(), SECRET);
    assert_eq!(counter.count("GetParametersByPath"), 2, "retried with backoff: {:?}", counter.by_operation());

    let warning = lines
        .json()
        .into_iter()
        .find(|l| l["message"] == "configuration refresh failed; serving the previous value")
        .unwrap_or_else(|| panic!("no warning in {}", lines.text()));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["path"], path);
    assert_eq!(warning["attempts"], 2);
    assert!(!lines.text().contains(SECRET));

    // A forced refresh reports the failure with its cause; the value stays.
    let err = config.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Unavailable);
    assert_eq!(err.path(), Some(path.as_str()));
    assert!(err.to_string().contains("GetParametersByPath"), "{err}");
    assert_eq!(config.get_within(Duration::MAX).greeting, "kept");

    // With nothing loaded yet, the failure is an error at init, with the cause.
    let err = params.load::<Down>(&path).await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Unavailable);
    assert!(err.is_retryable());
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("{path}: cannot reach SSM for GetParametersByPath: ")), "{shown}");
}

/// A handler that logs its configuration, as a careless user would.
async fn handler(name: String, _ctx: &halo::Ctx, config: &LiveConfig<Settings>) -> Result<String, halo::Error> {
    let settings = config.get();
    tracing::info!(settings = ?settings, "handling with settings");
    tracing::info!(password = %settings.db.password, "the password field on its own");
    Ok(format!("{}, {name}", settings.greeting))
}

#[tokio::test]
async fn a_secret_never_appears_in_debug_logs_or_errors() {
    let moto = Moto::shared();
    let client = client(moto, &RequestCounter::default()).await;
    let path = format!("/{}/secret", unique_name("halo-params"));
    put_settings(&client, &path).await;
    let params = Params::new(SsmSource::new(client.clone()));
    let config: LiveConfig<Settings> = params.load(&path).await.unwrap();

    let debug = format!("{:?} {:#?}", config.get(), config.get().db);
    assert!(debug.contains("***") && !debug.contains(SECRET), "{debug}");

    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let answer = {
        let _guard = tracing::subscriber::set_default(subscriber);
        handler("Ada".into(), &halo::Ctx::for_test(), &config).await.unwrap()
    };
    assert_eq!(answer, "hello, Ada");
    let logged = lines.text();
    assert!(logged.contains("handling with settings") && logged.contains("db.internal"), "{logged}");
    assert!(!logged.contains(SECRET), "{logged}");

    // A secret that does not fit its type: the error names the path only.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Pin {
        pin: Secret<u32>,
    }
    let pin_path = format!("{path}-pin");
    put(&client, &format!("{pin_path}/pin"), SECRET, ParameterType::SecureString).await;
    let err = params.load::<Pin>(&pin_path).await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Invalid);
    assert_eq!(err.path(), Some(format!("{pin_path}/pin").as_str()));
    let shown = format!("{err} {err:?}");
    let shown = format!("{shown} {}", halo::Error::from(err).source_chain());
    assert!(!shown.contains(SECRET), "{shown}");

    // Invalid JSON in a plain parameter: the path and the position.
    put(&client, &format!("{path}/db/port"), "{not json", ParameterType::String).await;
    let err = params.load::<Settings>(&path).await.unwrap_err();
    assert_eq!(err.path(), Some(format!("{path}/db/port").as_str()));
    assert!(err.to_string().contains("not valid JSON"), "{err}");
}

#[tokio::test]
async fn a_path_without_parameters_is_a_clear_error() {
    let moto = Moto::shared();
    let client = client(moto, &RequestCounter::default()).await;
    let path = format!("/{}/empty", unique_name("halo-params"));
    let err = Params::new(SsmSource::new(client)).load::<Settings>(&path).await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::NotFound);
    assert_eq!(err.path(), Some(path.as_str()));
    assert!(err.to_string().contains("ssm:GetParametersByPath"), "{err}");
}
