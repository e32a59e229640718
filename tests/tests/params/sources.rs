//! `halo::params`' sources beside SSM, against emulators on loopback:
//! Secrets Manager on moto (string, JSON and binary secrets, version
//! stages, a rotation picked up without a restart), DynamoDB in
//! Powertools' table layout on moto and on dynalite, and AppConfig with
//! its control plane on moto and its data plane (the data API, the Lambda
//! extension's endpoint) served over it. For each source: the requests one
//! refresh costs, and an outage that keeps serving the last value and
//! warns once per failed refresh.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_smithy_types::retry::RetryConfig;
use halo::durable::dynamodb::{Table, to_s};
use halo::durable::{KeyAttribute, TableSpec};
use halo::log::CapturedLines;
use halo::params::provider::Source;
use halo::params::{
    AppConfigSource, DynamoDbSource, LiveConfig, Params, ParamsErrorKind, RefreshPolicy, Secret, SecretsSource,
};
use halo::retry::Backoff;
use halo_test_support::appconfig::{AppConfigStub, MotoAppConfig};
use halo_test_support::dynalite::Dynalite;
use halo_test_support::moto::{Moto, sdk_config, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use halo_test_support::tcp_proxy::TcpProxy;
use serde::Deserialize;

const PASSWORD: &str = "pw-7f3a-Rotated-Never-Logged";
const NEW_PASSWORD: &str = "pw-91c2-After-Rotation";
const WARNING: &str = "configuration refresh failed; serving the previous value";

/// Two quick attempts per refresh; after a failed refresh, no other for a
/// minute (so a burst of reads during an outage warns once).
fn outage_policy() -> RefreshPolicy {
    RefreshPolicy::new(
        Backoff::new(2).initial_delay(Duration::from_millis(5)),
        Backoff::new(u32::MAX).initial_delay(Duration::from_secs(60)).without_jitter(),
    )
}

/// Reads `config` a hundred times past its max age while its source is
/// down: the last value each time, one background refresh, one warning
/// naming `what`, and no secret in the lines.
async fn assert_an_outage_keeps_the_value<T: Send + Sync + 'static>(
    config: &LiveConfig<T>,
    lines: &CapturedLines,
    what: &str,
    check: impl Fn(&T),
) {
    check(&config.get_within(Duration::ZERO));
    config.refreshed().await;
    for _ in 0..100 {
        check(&config.get_within(Duration::ZERO));
    }
    assert!(!config.is_refreshing(), "no second refresh within the cooldown");
    let warnings: Vec<_> = lines.json().into_iter().filter(|l| l["message"] == WARNING).collect();
    assert_eq!(warnings.len(), 1, "one warning per failed refresh: {}", lines.text());
    assert_eq!(warnings[0]["path"], what);
    assert_eq!(warnings[0]["attempts"], 2);
    assert!(!lines.text().contains(PASSWORD), "{}", lines.text());
}

// ---------------------------------------------------------------- Secrets Manager

async fn secrets_client(endpoint: &str, counter: &RequestCounter) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config(endpoint).await)
        .interceptor(counter.clone())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

#[derive(Debug, Deserialize)]
struct DbCredentials {
    username: String,
    password: Secret<String>,
    port: u16,
}

fn credentials(password: &str) -> String {
    serde_json::json!({ "username": "shop", "password": password, "port": 5432, "engine": "postgres" }).to_string()
}

#[tokio::test]
async fn secrets_decode_strings_json_and_binary_and_name_a_missing_one() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = secrets_client(&moto.endpoint(), &counter).await;
    let prefix = unique_name("halo-secrets");
    let (text, json, binary) = (format!("{prefix}/api-key"), format!("{prefix}/db"), format!("{prefix}/signing-key"));
    client.create_secret().name(&text).secret_string(PASSWORD).send().await.unwrap();
    client.create_secret().name(&json).secret_string(credentials(PASSWORD)).send().await.unwrap();
    let key_bytes: Vec<u8> = (0..=255).collect();
    client.create_secret().name(&binary).secret_binary(Blob::new(key_bytes.clone())).send().await.unwrap();

    let secrets = Params::new(SecretsSource::new(client.clone()));
    counter.reset();
    let key: Secret<String> = secrets.get(&text).await.unwrap();
    assert_eq!(key.expose(), PASSWORD);
    let db: DbCredentials = secrets.get(&json).await.unwrap();
    assert_eq!((db.username.as_str(), db.password.expose().as_str(), db.port), ("shop", PASSWORD, 5432));
    let signing: Secret<Vec<u8>> = secrets.get(&binary).await.unwrap();
    assert_eq!(signing.expose(), &key_bytes);
    assert_eq!(counter.count("GetSecretValue"), 3);
    let _again: Secret<String> = secrets.get(&text).await.unwrap();
    assert_eq!(counter.count("GetSecretValue"), 3, "served from the cache");
    assert!(!format!("{db:?} {signing:?}").contains(PASSWORD));

    // A JSON secret read into a type it does not fit: named, never shown.
    let err = secrets.get::<u32>(&json).await.unwrap_err();
    assert_eq!(err.path(), Some(json.as_str()));
    assert!(!err.to_string().contains(PASSWORD), "{err}");

    let missing = format!("{prefix}/absent");
    let err = secrets.get::<String>(&missing).await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::NotFound);
    assert_eq!(err.path(), Some(missing.as_str()));
    assert!(err.to_string().contains("GetSecretValue"), "{err}");
}

#[tokio::test]
async fn a_rotated_secret_is_picked_up_by_the_next_refresh_without_a_restart() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let client = secrets_client(&moto.endpoint(), &counter).await;
    let name = format!("{}/db", unique_name("halo-rotation"));
    let created = client.create_secret().name(&name).secret_string(credentials(PASSWORD)).send().await.unwrap();
    let old_version = created.version_id.unwrap();

    let secrets = Params::new(SecretsSource::new(client.clone())).max_age(Duration::from_secs(3600));
    let live = secrets.load_one::<DbCredentials>(&name).await.unwrap();
    assert_eq!(live.get().password.expose(), PASSWORD);

    // The rotation's steps as a rotation function runs them: the new value
    // staged AWSPENDING (createSecret), read back there (testSecret), then
    // promoted to AWSCURRENT (finishSecret).
    let pending = client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(credentials(NEW_PASSWORD))
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let staged = Params::new(SecretsSource::new(client.clone()).version_stage("AWSPENDING"));
    assert_eq!(staged.get::<DbCredentials>(&name).await.unwrap().password.expose(), NEW_PASSWORD);
    assert_eq!(live.get().password.expose(), PASSWORD, "AWSCURRENT is still the old value");
    client
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(pending.version_id.unwrap())
        .remove_from_version_id(&old_version)
        .send()
        .await
        .unwrap();

    // Within the max age the old value is served from memory; one refresh
    // (one GetSecretValue) brings the rotated one.
    assert_eq!(live.get().password.expose(), PASSWORD);
    counter.reset();
    assert_eq!(live.get_within(Duration::ZERO).password.expose(), PASSWORD, "stale while revalidating");
    live.refreshed().await;
    assert_eq!(live.get().password.expose(), NEW_PASSWORD);
    assert_eq!(counter.by_operation().into_iter().collect::<Vec<_>>(), [("GetSecretValue".to_owned(), 1)]);
    let previous = Params::new(SecretsSource::new(client).version_stage("AWSPREVIOUS"));
    assert_eq!(previous.get::<DbCredentials>(&name).await.unwrap().password.expose(), PASSWORD);
}

#[tokio::test]
async fn secrets_manager_down_keeps_the_last_secret_and_warns_once() {
    let (_guard, lines) = halo_test_support::logs::capture();
    let moto = Moto::shared();
    let proxy = TcpProxy::start(moto.endpoint().trim_start_matches("http://").parse().unwrap()).await;
    let client = secrets_client(&proxy.endpoint(), &RequestCounter::default()).await;
    let name = format!("{}/db", unique_name("halo-secrets-down"));
    client.create_secret().name(&name).secret_string(credentials(PASSWORD)).send().await.unwrap();
    let secrets = Params::new(SecretsSource::new(client)).refresh_policy(outage_policy());
    let live = secrets.load_one::<DbCredentials>(&name).await.unwrap();
    proxy.cut();
    assert_an_outage_keeps_the_value(&live, &lines, &name, |db| assert_eq!(db.password.expose(), PASSWORD)).await;
    let err = live.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Unavailable);
    assert!(err.to_string().starts_with(&format!("{name}: cannot reach Secrets Manager for GetSecretValue")), "{err}");
}

// ---------------------------------------------------------------- DynamoDB

#[derive(Debug, Deserialize, PartialEq)]
struct Limits {
    max_items: u32,
    page_size: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
struct ShopConfig {
    greeting: String,
    beta: bool,
    limits: Limits,
    origins: Vec<String>,
}

/// Creates a table in Powertools' layout and fills a set under
/// `shop-config` and a single item `banner`.
async fn parameters_table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = unique_name("halo-parameters");
    let table = Table::new(client.clone(), &name);
    table.create(&TableSpec::new(KeyAttribute::string("id")).sort_key(KeyAttribute::string("sk"))).await.unwrap();
    let items = [
        ("shop-config", "greeting", AttributeValue::S("hello".into())),
        ("shop-config", "beta", AttributeValue::Bool(true)),
        ("shop-config", "limits/max_items", AttributeValue::N("50".into())),
        ("shop-config", "limits/page_size", AttributeValue::S("10".into())),
        ("shop-config", "origins", AttributeValue::S(r#"["https://a.example","https://b.example"]"#.into())),
        ("other-config", "greeting", AttributeValue::S("not mine".into())),
    ];
    for (id, sk, value) in items {
        client
            .put_item()
            .table_name(&name)
            .item("id", to_s(id))
            .item("sk", to_s(sk))
            .item("value", value)
            .send()
            .await
            .unwrap();
    }
    name
}

async fn dynamodb_layout_is_read_as_powertools_writes_it(client: aws_sdk_dynamodb::Client, counter: &RequestCounter) {
    let table = parameters_table(&client).await;
    let params = Params::new(DynamoDbSource::new(client.clone(), &table));
    counter.reset();
    let config = params.load::<ShopConfig>("shop-config").await.unwrap();
    assert_eq!(
        *config.get(),
        ShopConfig {
            greeting: "hello".into(),
            beta: true,
            limits: Limits { max_items: 50, page_size: 10 },
            origins: vec!["https://a.example".into(), "https://b.example".into()],
        }
    );
    assert_eq!(counter.count("Query"), 1, "one Query per refresh: {:?}", counter.by_operation());
    config.refresh().await.unwrap();
    assert_eq!(counter.count("Query"), 2);

    // A single parameter per item: its `id` is the name (a table keyed by
    // `id` alone reads the same; this one has a sort key, so the single
    // source reads through a key of its own layout).
    let single_table = unique_name("halo-parameter");
    Table::new(client.clone(), &single_table).create(&TableSpec::new(KeyAttribute::string("id"))).await.unwrap();
    client
        .put_item()
        .table_name(&single_table)
        .item("id", to_s("banner"))
        .item("value", to_s("Winter sale"))
        .send()
        .await
        .unwrap();
    let singles = Params::new(DynamoDbSource::new(client.clone(), &single_table));
    counter.reset();
    assert_eq!(singles.get::<String>("banner").await.unwrap(), "Winter sale");
    assert_eq!(counter.count("GetItem"), 1);
    let err = singles.get::<String>("absent").await.unwrap_err();
    assert_eq!((err.kind(), err.path()), (ParamsErrorKind::NotFound, Some("absent")));

    // A table that does not exist is a configuration error naming the key.
    let missing = Params::new(DynamoDbSource::new(client, unique_name("halo-no-such-table")));
    let err = missing.get::<String>("banner").await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Config, "{err}");
}

#[tokio::test]
async fn dynamodb_parameters_on_moto() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config().await).interceptor(counter.clone()).build();
    dynamodb_layout_is_read_as_powertools_writes_it(aws_sdk_dynamodb::Client::from_conf(config), &counter).await;
}

#[tokio::test]
async fn dynamodb_parameters_on_dynalite() {
    let dynalite = Dynalite::shared();
    let counter = RequestCounter::default();
    let config =
        aws_sdk_dynamodb::config::Builder::from(&dynalite.sdk_config().await).interceptor(counter.clone()).build();
    dynamodb_layout_is_read_as_powertools_writes_it(aws_sdk_dynamodb::Client::from_conf(config), &counter).await;
}

#[tokio::test]
async fn dynamodb_down_keeps_the_last_value_and_warns_once() {
    let (_guard, lines) = halo_test_support::logs::capture();
    let moto = Moto::shared();
    let proxy = TcpProxy::start(moto.endpoint().trim_start_matches("http://").parse().unwrap()).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config(&proxy.endpoint()).await)
        .retry_config(RetryConfig::disabled())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = parameters_table(&client).await;
    let params = Params::new(DynamoDbSource::new(client, &table)).refresh_policy(outage_policy());
    let config = params.load::<ShopConfig>("shop-config").await.unwrap();
    proxy.cut();
    assert_an_outage_keeps_the_value(&config, &lines, "shop-config", |c| assert_eq!(c.greeting, "hello")).await;
}

// ---------------------------------------------------------------- AppConfig

#[derive(Debug, Deserialize, PartialEq)]
struct Checkout {
    max_items: u32,
    currency: String,
}

/// An application with a JSON, a YAML and a text profile on moto; `(app,
/// json, yaml, text)` ids.
async fn appconfig_profiles(control: &MotoAppConfig) -> (String, String, String, String) {
    let application = control.create_application(&unique_name("halo-shop")).await;
    let json = control.create_profile(&application, "checkout").await;
    let yaml = control.create_profile(&application, "checkout-yaml").await;
    let text = control.create_profile(&application, "motd").await;
    control.publish(&application, &json, br#"{"max_items": 5, "currency": "EUR"}"#, "application/json").await;
    control.publish(&application, &yaml, b"max_items: 7\ncurrency: USD\n", "application/x-yaml").await;
    control.publish(&application, &text, b"Welcome back", "text/plain").await;
    (application, json, yaml, text)
}

async fn data_api_client(stub: &AppConfigStub, counter: &RequestCounter) -> aws_sdk_appconfigdata::Client {
    let config = aws_sdk_appconfigdata::config::Builder::from(&sdk_config(&stub.endpoint()).await)
        .interceptor(counter.clone())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_appconfigdata::Client::from_conf(config)
}

#[tokio::test]
async fn appconfig_data_api_keeps_its_token_and_honours_the_poll_interval() {
    let moto = Moto::shared();
    let control = MotoAppConfig::new(moto.endpoint());
    let (application, json, yaml, text) = appconfig_profiles(&control).await;
    // A poll interval of an hour: a refresh before it serves the last content.
    let stub = AppConfigStub::start(control.clone(), 3600).await;
    let counter = RequestCounter::default();
    let source = AppConfigSource::new(data_api_client(&stub, &counter).await, &application, "prod");
    assert_eq!(source.name(), "appconfig");
    let params = Params::new(source);

    let checkout = params.load_one::<Checkout>(&json).await.unwrap();
    assert_eq!(*checkout.get(), Checkout { max_items: 5, currency: "EUR".into() });
    assert_eq!(counter.count("StartConfigurationSession"), 1);
    assert_eq!(counter.count("GetLatestConfiguration"), 1);
    let from_yaml = params.load_one::<Checkout>(&yaml).await.unwrap();
    assert_eq!(*from_yaml.get(), Checkout { max_items: 7, currency: "USD".into() });
    assert_eq!(params.get::<String>(&text).await.unwrap(), "Welcome back");

    counter.reset();
    control.publish(&application, &json, br#"{"max_items": 9, "currency": "EUR"}"#, "application/json").await;
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 5, "within the poll interval: the last content, no call");
    assert_eq!(counter.total(), 0, "{:?}", counter.by_operation());
}

#[tokio::test]
async fn appconfig_data_api_picks_up_a_new_version_with_one_call_per_refresh() {
    let moto = Moto::shared();
    let control = MotoAppConfig::new(moto.endpoint());
    let (application, json, _, _) = appconfig_profiles(&control).await;
    let stub = AppConfigStub::start(control.clone(), 0).await;
    let counter = RequestCounter::default();
    let params = Params::new(AppConfigSource::new(data_api_client(&stub, &counter).await, &application, "prod"));
    let checkout = params.load_one::<Checkout>(&json).await.unwrap();

    // Unchanged: one call, an empty answer, the same value.
    counter.reset();
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 5);
    assert_eq!(counter.by_operation().into_iter().collect::<Vec<_>>(), [("GetLatestConfiguration".to_owned(), 1)]);

    // A new version: one call brings it.
    control.publish(&application, &json, br#"{"max_items": 9, "currency": "EUR"}"#, "application/json").await;
    counter.reset();
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 9);
    assert_eq!(counter.total(), 1);

    // A token the service no longer knows: one new session, then the poll.
    stub.expire_tokens();
    counter.reset();
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 9);
    assert_eq!(counter.count("StartConfigurationSession"), 1);
    assert_eq!(counter.count("GetLatestConfiguration"), 2, "the refused poll and the new one");

    // A profile that does not exist is named.
    let err = params.get::<String>("no-such-profile").await.unwrap_err();
    assert_eq!(err.path(), Some("no-such-profile"));
}

#[tokio::test]
async fn appconfig_down_keeps_the_last_value_and_warns_once() {
    let (_guard, lines) = halo_test_support::logs::capture();
    let moto = Moto::shared();
    let control = MotoAppConfig::new(moto.endpoint());
    let (application, json, _, _) = appconfig_profiles(&control).await;
    let stub = AppConfigStub::start(control, 0).await;
    let counter = RequestCounter::default();
    let params = Params::new(AppConfigSource::new(data_api_client(&stub, &counter).await, &application, "prod"))
        .refresh_policy(outage_policy());
    let checkout = params.load_one::<Checkout>(&json).await.unwrap();
    stub.set_down(true);
    assert_an_outage_keeps_the_value(&checkout, &lines, &json, |c| assert_eq!(c.max_items, 5)).await;
    let err = checkout.refresh().await.unwrap_err();
    assert_eq!(err.kind(), ParamsErrorKind::Unavailable, "{err}");
    stub.set_down(false);
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 5);
}

#[tokio::test]
async fn appconfig_through_the_lambda_extension() {
    let (_guard, lines) = halo_test_support::logs::capture();
    let moto = Moto::shared();
    let control = MotoAppConfig::new(moto.endpoint());
    let (application, json, yaml, text) = appconfig_profiles(&control).await;
    let stub = AppConfigStub::start(control.clone(), 0).await;
    let source = AppConfigSource::extension(&application, "prod", stub.port());
    assert!(source.is_extension());
    let params = Params::new(source).refresh_policy(outage_policy());

    let checkout = params.load_one::<Checkout>(&json).await.unwrap();
    assert_eq!(*checkout.get(), Checkout { max_items: 5, currency: "EUR".into() });
    assert_eq!(params.get::<Checkout>(&yaml).await.unwrap().max_items, 7);
    assert_eq!(params.get::<String>(&text).await.unwrap(), "Welcome back");
    control.publish(&application, &json, br#"{"max_items": 11, "currency": "EUR"}"#, "application/json").await;
    stub.reset_counts();
    checkout.refresh().await.unwrap();
    assert_eq!(checkout.get().max_items, 11);
    assert_eq!(stub.count("Extension"), 1, "one local request per refresh");

    let err = params.get::<String>("no-such-profile").await.unwrap_err();
    assert_eq!((err.kind(), err.path()), (ParamsErrorKind::NotFound, Some("no-such-profile")));

    stub.set_down(true);
    assert_an_outage_keeps_the_value(&checkout, &lines, &json, |c| assert_eq!(c.max_items, 11)).await;
}
