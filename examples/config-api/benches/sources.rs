//! The cold start of each `halo::params` source beside SSM's, on loopback
//! emulators: from nothing (an SDK client built from an already loaded
//! `SdkConfig`, a new source, a new `Params`) to the first typed value in
//! hand, which is what a function's init pays for its first read: client
//! construction, the first request(s), deserialization.
//!
//! - SSM (moto): one parameter (`GetParameters`), and for reference a path
//!   of 10 parameters (`GetParametersByPath`).
//! - Secrets Manager (moto): a string secret into `Secret<String>`, a JSON
//!   secret into a struct (`GetSecretValue`).
//! - AppConfig through the data API (`StartConfigurationSession` +
//!   `GetLatestConfiguration`) and through the Lambda extension's endpoint
//!   (one local GET): `halo_test_support::appconfig::AppConfigStub`, the
//!   data plane served over moto's AppConfig control plane.
//! - DynamoDB (moto): one item (`GetItem`), a set under one partition key
//!   (`Query`).
//!
//! Before measuring, the requests one refresh costs per source are counted
//! and printed (an initial load, then one forced refresh).
//!
//! Reading the figures: most of each one is the emulator's time to answer,
//! so the `params_cold_start_emulator` group measures that share on its own:
//! one raw request per service through a client built beforehand (no halo),
//! and the AppConfig stub's lookup in moto (two control-plane calls, on new
//! connections, per `GetLatestConfiguration` or extension request), to be
//! subtracted from both AppConfig cases. The SDK's connection pool belongs
//! to the `SdkConfig`'s HTTP client, so a client built from it reuses a
//! kept-alive loopback connection (no TCP or TLS set-up), while the
//! extension transport connects for each request.
//!
//! `cargo bench -p config-api --bench sources`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ssm::types::ParameterType;
use criterion::{Criterion, criterion_group, criterion_main};
use halo::durable::dynamodb::{Table, to_s};
use halo::durable::{KeyAttribute, TableSpec};
use halo::params::{AppConfigSource, DynamoDbSource, GetOptions, Params, Secret, SecretsSource, SsmSource};
use halo_test_support::appconfig::{AppConfigStub, MotoAppConfig};
use halo_test_support::moto::{Moto, sdk_config, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use serde::Deserialize;

/// The value of the single SSM parameter, the string secret and the
/// DynamoDB item.
const GREETING: &str = "Winter sale";

/// The 10 parameters under one SSM path.
#[derive(Deserialize)]
struct Flat {
    items: BTreeMap<String, String>,
}

/// The JSON secret.
#[derive(Deserialize)]
struct DbCredentials {
    username: String,
    password: Secret<String>,
    port: u16,
}

/// The AppConfig profile.
#[derive(Deserialize)]
struct Checkout {
    max_items: u32,
    currency: String,
}

/// The set under one partition key of the DynamoDB table.
#[derive(Deserialize)]
struct ShopConfig {
    greeting: String,
    beta: bool,
    limits: Limits,
}

#[derive(Deserialize)]
struct Limits {
    max_items: u32,
    page_size: u32,
}

/// What every case reads, created once.
struct Fixture {
    /// SSM, Secrets Manager and DynamoDB on moto.
    moto: SdkConfig,
    /// The AppConfig data API on the stub.
    data_api: SdkConfig,
    control: MotoAppConfig,
    stub: AppConfigStub,
    parameter: String,
    path: String,
    secret: String,
    json_secret: String,
    application: String,
    profile: String,
    single_table: String,
    set_table: String,
}

async fn fixture(moto: &Moto) -> Fixture {
    let moto_config = moto.sdk_config().await;
    let prefix = unique_name("halo-sources");

    let ssm = aws_sdk_ssm::Client::new(&moto_config);
    let parameter = format!("/{prefix}/greeting");
    let path = format!("/{prefix}/bench");
    let mut puts = vec![(parameter.clone(), GREETING.to_owned(), ParameterType::String)];
    for i in 0..10 {
        let kind = if i == 0 { ParameterType::SecureString } else { ParameterType::String };
        puts.push((format!("{path}/items/key{i:03}"), format!("value-{i}"), kind));
    }
    for (name, value, kind) in puts {
        ssm.put_parameter().name(name).value(value).r#type(kind).send().await.expect("put a parameter");
    }

    let secrets = aws_sdk_secretsmanager::Client::new(&moto_config);
    let (secret, json_secret) = (format!("{prefix}/api-key"), format!("{prefix}/db"));
    let credentials = serde_json::json!({ "username": "shop", "password": "pw", "port": 5432, "engine": "postgres" });
    secrets.create_secret().name(&secret).secret_string(GREETING).send().await.expect("create a secret");
    secrets.create_secret().name(&json_secret).secret_string(credentials.to_string()).send().await.expect("a secret");

    let control = MotoAppConfig::new(moto.endpoint());
    let application = control.create_application(&prefix).await;
    let profile = control.create_profile(&application, "checkout").await;
    control.publish(&application, &profile, br#"{"max_items": 5, "currency": "EUR"}"#, "application/json").await;
    // A poll interval of 0: every refresh polls.
    let stub = AppConfigStub::start(control.clone(), 0).await;
    let data_api = sdk_config(&stub.endpoint()).await;

    let dynamodb = aws_sdk_dynamodb::Client::new(&moto_config);
    let single_table = format!("{prefix}-single");
    let set_table = format!("{prefix}-set");
    let single = TableSpec::new(KeyAttribute::string("id"));
    Table::new(dynamodb.clone(), &single_table).create(&single).await.expect("create the single table");
    let set = TableSpec::new(KeyAttribute::string("id")).sort_key(KeyAttribute::string("sk"));
    Table::new(dynamodb.clone(), &set_table).create(&set).await.expect("create the set table");
    let put = |table: &str, item: Vec<(&str, AttributeValue)>| {
        let request = item.into_iter().fold(dynamodb.put_item().table_name(table), |r, (k, v)| r.item(k, v));
        async move { request.send().await.expect("put an item") }
    };
    put(&single_table, vec![("id", to_s("banner")), ("value", to_s(GREETING))]).await;
    let set_items = [
        ("greeting", to_s(GREETING)),
        ("beta", AttributeValue::Bool(true)),
        ("limits/max_items", AttributeValue::N("50".into())),
        ("limits/page_size", to_s("10")),
    ];
    for (sk, value) in set_items {
        put(&set_table, vec![("id", to_s("shop-config")), ("sk", to_s(sk)), ("value", value)]).await;
    }

    Fixture {
        moto: moto_config,
        data_api,
        control,
        stub,
        parameter,
        path,
        secret,
        json_secret,
        application,
        profile,
        single_table,
        set_table,
    }
}

// Clients as a cold start builds them; with a counter for the refresh costs.

fn ssm(config: &SdkConfig, counter: Option<&RequestCounter>) -> aws_sdk_ssm::Client {
    let builder = aws_sdk_ssm::config::Builder::from(config);
    aws_sdk_ssm::Client::from_conf(match counter {
        Some(counter) => builder.interceptor(counter.clone()).build(),
        None => builder.build(),
    })
}

fn secrets(config: &SdkConfig, counter: Option<&RequestCounter>) -> aws_sdk_secretsmanager::Client {
    let builder = aws_sdk_secretsmanager::config::Builder::from(config);
    aws_sdk_secretsmanager::Client::from_conf(match counter {
        Some(counter) => builder.interceptor(counter.clone()).build(),
        None => builder.build(),
    })
}

fn appconfig(config: &SdkConfig, counter: Option<&RequestCounter>) -> aws_sdk_appconfigdata::Client {
    let builder = aws_sdk_appconfigdata::config::Builder::from(config);
    aws_sdk_appconfigdata::Client::from_conf(match counter {
        Some(counter) => builder.interceptor(counter.clone()).build(),
        None => builder.build(),
    })
}

fn dynamodb(config: &SdkConfig, counter: Option<&RequestCounter>) -> aws_sdk_dynamodb::Client {
    let builder = aws_sdk_dynamodb::config::Builder::from(config);
    aws_sdk_dynamodb::Client::from_conf(match counter {
        Some(counter) => builder.interceptor(counter.clone()).build(),
        None => builder.build(),
    })
}

// The sources, each a new one.

fn ssm_params(f: &Fixture, counter: Option<&RequestCounter>) -> Params {
    Params::new(SsmSource::new(ssm(&f.moto, counter)))
}

fn secrets_params(f: &Fixture, counter: Option<&RequestCounter>) -> Params {
    Params::new(SecretsSource::new(secrets(&f.moto, counter)))
}

fn data_api_params(f: &Fixture, counter: Option<&RequestCounter>) -> Params {
    Params::new(AppConfigSource::new(appconfig(&f.data_api, counter), &f.application, "prod"))
}

fn extension_params(f: &Fixture) -> Params {
    Params::new(AppConfigSource::extension(&f.application, "prod", f.stub.port()))
}

fn single_params(f: &Fixture, counter: Option<&RequestCounter>) -> Params {
    Params::new(DynamoDbSource::new(dynamodb(&f.moto, counter), &f.single_table))
}

fn set_params(f: &Fixture, counter: Option<&RequestCounter>) -> Params {
    Params::new(DynamoDbSource::new(dynamodb(&f.moto, counter), &f.set_table))
}

/// `1 GetParametersByPath`, `1 StartConfigurationSession + 1 GetLatestConfiguration`.
fn describe(counter: &RequestCounter) -> String {
    let requests: Vec<String> = counter.by_operation().into_iter().map(|(op, n)| format!("{n} {op}")).collect();
    if requests.is_empty() { "0".to_owned() } else { requests.join(" + ") }
}

/// Each source's requests for one forced refresh after an initial load
/// (checking the values read on the way).
async fn refresh_costs(f: &Fixture) -> String {
    let counter = RequestCounter::default();

    let params = ssm_params(f, Some(&counter));
    assert_eq!(params.get::<String>(&f.parameter).await.expect("ssm get"), GREETING);
    counter.reset();
    params.get_with::<String>(&f.parameter, GetOptions::new().force()).await.expect("ssm get, forced");
    let ssm_get = describe(&counter);

    let flat = ssm_params(f, Some(&counter)).load::<Flat>(&f.path).await.expect("ssm load");
    assert_eq!(flat.get().items.len(), 10);
    counter.reset();
    flat.refresh().await.expect("ssm refresh");
    let ssm_path = describe(&counter);

    let params = secrets_params(f, Some(&counter));
    assert_eq!(params.get::<Secret<String>>(&f.secret).await.expect("secret").expose(), GREETING);
    let db = params.load_one::<DbCredentials>(&f.json_secret).await.expect("json secret");
    assert_eq!((db.get().username.as_str(), db.get().password.expose().as_str(), db.get().port), ("shop", "pw", 5432));
    counter.reset();
    db.refresh().await.expect("secret refresh");
    let secrets = describe(&counter);

    counter.reset();
    let checkout = data_api_params(f, Some(&counter)).load_one::<Checkout>(&f.profile).await.expect("data API");
    assert_eq!((checkout.get().max_items, checkout.get().currency.as_str()), (5, "EUR"));
    let data_api_first = counter.total();
    counter.reset();
    checkout.refresh().await.expect("data API refresh");
    let data_api = describe(&counter);

    let checkout = extension_params(f).load_one::<Checkout>(&f.profile).await.expect("extension");
    assert_eq!(checkout.get().max_items, 5);
    let before = f.stub.count("Extension");
    checkout.refresh().await.expect("extension refresh");
    let extension = f.stub.count("Extension") - before;

    let params = single_params(f, Some(&counter));
    assert_eq!(params.get::<String>("banner").await.expect("dynamodb get"), GREETING);
    counter.reset();
    params.get_with::<String>("banner", GetOptions::new().force()).await.expect("dynamodb get, forced");
    let single = describe(&counter);

    let shop = set_params(f, Some(&counter)).load::<ShopConfig>("shop-config").await.expect("dynamodb load");
    let limits = &shop.get().limits;
    assert_eq!(
        (shop.get().greeting.as_str(), shop.get().beta, limits.max_items, limits.page_size),
        (GREETING, true, 50, 10)
    );
    counter.reset();
    shop.refresh().await.expect("dynamodb refresh");
    let set = describe(&counter);

    format!(
        "ssm get={ssm_get}, ssm path={ssm_path}, secrets-manager={secrets}, appconfig data API={data_api} \
         (first load {data_api_first}), extension={extension}, dynamodb single={single}, set={set}"
    )
}

fn sources(c: &mut Criterion) {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let f = runtime.block_on(fixture(&moto));
    eprintln!("requests per refresh: {}", runtime.block_on(refresh_costs(&f)));

    let mut group = c.benchmark_group("params_cold_start");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("ssm/get", |b| {
        b.iter(|| runtime.block_on(async { ssm_params(&f, None).get::<String>(&f.parameter).await.expect("ssm get") }));
    });
    group.bench_function("ssm/load_10", |b| {
        b.iter(|| runtime.block_on(async { ssm_params(&f, None).load::<Flat>(&f.path).await.expect("ssm load") }));
    });
    group.bench_function("secrets_manager/get_string", |b| {
        b.iter(|| {
            runtime.block_on(async { secrets_params(&f, None).get::<Secret<String>>(&f.secret).await.expect("secret") })
        });
    });
    group.bench_function("secrets_manager/get_json", |b| {
        b.iter(|| {
            runtime.block_on(async {
                secrets_params(&f, None).get::<DbCredentials>(&f.json_secret).await.expect("json secret")
            })
        });
    });
    group.bench_function("appconfig/data_api", |b| {
        b.iter(|| {
            runtime
                .block_on(async { data_api_params(&f, None).load_one::<Checkout>(&f.profile).await.expect("data API") })
        });
    });
    group.bench_function("appconfig/extension", |b| {
        b.iter(|| {
            runtime.block_on(async { extension_params(&f).load_one::<Checkout>(&f.profile).await.expect("extension") })
        });
    });
    group.bench_function("dynamodb/get", |b| {
        b.iter(|| runtime.block_on(async { single_params(&f, None).get::<String>("banner").await.expect("get") }));
    });
    group.bench_function("dynamodb/load_set", |b| {
        b.iter(|| {
            runtime.block_on(async { set_params(&f, None).load::<ShopConfig>("shop-config").await.expect("load") })
        });
    });
    group.finish();

    // The emulators' share: one raw request with a client built before
    // (a warm client, no halo), and what the AppConfig stub spends in moto
    // for each data API or extension request.
    let mut group = c.benchmark_group("params_cold_start_emulator");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let (ssm_client, secrets_client, dynamodb_client) =
        (ssm(&f.moto, None), secrets(&f.moto, None), dynamodb(&f.moto, None));
    group.bench_function("ssm_get_parameters_warm_client", |b| {
        b.iter(|| {
            runtime
                .block_on(ssm_client.get_parameters().names(&f.parameter).with_decryption(true).send())
                .expect("GetParameters")
        });
    });
    group.bench_function("secrets_manager_get_secret_value_warm_client", |b| {
        b.iter(|| {
            runtime.block_on(secrets_client.get_secret_value().secret_id(&f.secret).send()).expect("GetSecretValue")
        });
    });
    group.bench_function("dynamodb_get_item_warm_client", |b| {
        b.iter(|| {
            let request =
                dynamodb_client.get_item().table_name(&f.single_table).key("id", to_s("banner")).consistent_read(true);
            runtime.block_on(request.send()).expect("GetItem")
        });
    });
    group.bench_function("appconfig_stub_moto_lookup", |b| {
        b.iter(|| runtime.block_on(f.control.latest(&f.application, &f.profile, 0)).expect("a hosted version"));
    });
    group.finish();
}

criterion_group!(benches, sources);
criterion_main!(benches);
