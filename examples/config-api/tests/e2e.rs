//! config-api as a compiled binary: as a Lambda runtime reading SSM and
//! Secrets Manager (moto on loopback) and AppConfig (its control plane on
//! moto, the data API over it), and as a local command-line tool with
//! environment overrides and no emulator at all.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use halo_test_support::appconfig::{AppConfigStub, MotoAppConfig};
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::RuntimeApi;

const BINARY: &str = env!("CARGO_BIN_EXE_config-api");
const API_KEY: &str = "sk-e2e-7c1f0d9a-do-not-print";
const PAYMENT_KEY: &str = "pk-e2e-51d0-do-not-print";
const FLAGS: &str = r#"{
    "beta_banner": {"default": false, "rules": {"premium": {"when_match": true,
        "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}}},
    "page_size": {"default": 15, "boolean_type": false, "rules": {}}
}"#;

#[tokio::test]
async fn reads_its_settings_from_ssm_at_init() {
    let moto = Moto::shared();
    let client = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    let stage = unique_name("e2e");
    let path = format!("/halo-examples/{stage}/config-api");
    let put = |name: &str, value: &str, kind: ParameterType| {
        client.put_parameter().name(format!("{path}/{name}")).value(value).r#type(kind).send()
    };
    put("greeting", "howdy", ParameterType::String).await.unwrap();
    put("allowed_origins", "https://a.example,https://b.example", ParameterType::StringList).await.unwrap();
    put("limits/max_items", "40", ParameterType::String).await.unwrap();
    put("limits/page_size", "20", ParameterType::String).await.unwrap();
    put("features", r#"{"beta_banner": false, "currency": "GBP"}"#, ParameterType::String).await.unwrap();
    put("api_key", API_KEY, ParameterType::SecureString).await.unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await);
    let payment = serde_json::json!({"api_url": "https://pay.example", "merchant_id": "m-9", "api_key": PAYMENT_KEY});
    let secret = format!("halo-examples/{stage}/config-api/payment");
    secrets.create_secret().name(&secret).secret_string(payment.to_string()).send().await.unwrap();
    let control = MotoAppConfig::new(moto.endpoint());
    let application = control.create_application(&unique_name("config-api")).await;
    let profile = control.create_profile(&application, "flags").await;
    control.publish(&application, &profile, FLAGS.as_bytes(), "application/json").await;
    let appconfig = AppConfigStub::start(control, 0).await;

    let api = RuntimeApi::start().await;
    let endpoint = moto.endpoint();
    let appconfig_endpoint = appconfig.endpoint();
    let env = [
        ("HALO_STAGE", stage.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ENDPOINT_URL_APPCONFIGDATA", appconfig_endpoint.as_str()),
        ("HALO_APPCONFIG_TRANSPORT", "api"),
        ("CONFIG_API_APPCONFIG_APPLICATION", application.as_str()),
        ("CONFIG_API_FLAGS_PROFILE", profile.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let function = FunctionProcess::start(Path::new(BINARY), &api, &env);
    let first = api.invoke(&serde_json::json!({"name": "Ada", "tier": "premium"}), Duration::from_secs(10)).await;
    let second = api.invoke(&serde_json::json!({}), Duration::from_secs(10)).await;
    let lines = function.stop();

    assert!(first.success, "{:?} {lines:?}", first.body);
    assert_eq!(first.body["message"], "howdy, Ada");
    assert_eq!(first.body["stage"], stage.as_str());
    assert_eq!(first.body["limits"], serde_json::json!({"max_items": 40, "page_size": 20}));
    assert_eq!(first.body["features"]["currency"], "GBP");
    assert_eq!(first.body["allowed_origins"][1], "https://b.example");
    assert_eq!(first.body["api_key_configured"], true);
    assert_eq!(first.body["payment_provider"], "https://pay.example (m-9)");
    assert_eq!(first.body["payment_configured"], true);
    assert_eq!(
        (&first.body["beta_banner"], &first.body["page_size"]),
        (&serde_json::json!(true), &serde_json::json!(15))
    );
    assert_eq!(second.body["message"], "howdy, world");
    assert_eq!(second.body["beta_banner"], false);
    assert_eq!(appconfig.count("StartConfigurationSession"), 1, "one session: {:?}", appconfig.requests());

    let json = parse_json_lines(&lines);
    let loaded: Vec<_> = json.iter().filter(|l| l["message"] == "configuration loaded").collect();
    let sources: Vec<_> = loaded.iter().map(|l| l["source"].as_str().unwrap_or_default()).collect();
    assert_eq!(sources, ["ssm", "secrets-manager", "appconfig"], "each loaded once, at init: {json:?}");
    assert_eq!(json.iter().filter(|l| l["message"] == "settings in use").count(), 2);
    let everything = format!("{lines:?} {} {}", first.body, second.body);
    assert!(!everything.contains(API_KEY) && !everything.contains(PAYMENT_KEY), "a secret leaked: {everything}");
    assert!(everything.contains("api_key: ***"));
}

#[tokio::test]
async fn init_fails_clearly_when_a_parameter_is_missing() {
    let api = RuntimeApi::start().await;
    let moto = Moto::shared();
    let endpoint = moto.endpoint();
    let stage = unique_name("e2e-empty");
    let env = [
        ("HALO_STAGE", stage.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let mut function = FunctionProcess::start(Path::new(BINARY), &api, &env);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while api.init_errors().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no init error reported");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let message = api.init_errors()[0]["errorMessage"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.starts_with(&format!("/halo-examples/{stage}/config-api: no parameters under this path")),
        "{message}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while function.is_running() {
        assert!(std::time::Instant::now() < deadline, "the process did not exit after a failed init");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the binary as a local CLI with only `PATH` and `env` set: no AWS
/// credentials, no endpoint, no emulator.
fn local_invoke(env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["invoke", "events/hello.json"])
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn runs_locally_from_the_file_and_environment_overrides_without_aws() {
    let (code, stdout, stderr) = local_invoke(&[]);
    assert_eq!(code, 0, "{stderr}");
    let reply: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["message"], "hello, Ada");
    assert_eq!(reply["limits"]["max_items"], 25);

    let (code, stdout, stderr) = local_invoke(&[
        ("HALO_PARAM_GREETING", "bonjour"),
        ("HALO_PARAM_LIMITS__MAX_ITEMS", "99"),
        ("HALO_PARAM_API_KEY", API_KEY),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let reply: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["message"], "bonjour, Ada");
    assert_eq!(reply["limits"]["max_items"], 99);
    assert_eq!(reply["limits"]["page_size"], 10, "the rest from params.local.json");
    let lines = parse_json_lines(&stderr.lines().map(str::to_owned).collect::<Vec<_>>());
    let loaded = lines.iter().find(|l| l["message"] == "configuration loaded").expect("a load line");
    assert_eq!(loaded["source"], "environment");
    assert!(!format!("{stdout}{stderr}").contains(API_KEY));
}

#[test]
fn a_bad_override_fails_init_naming_the_parameter() {
    let (code, _, stderr) = local_invoke(&[("HALO_PARAM_LIMITS__PAGE_SIZE", "ten")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("/halo-examples/dev/config-api/limits/page_size"), "{stderr}");
    assert!(stderr.contains("init failed"), "{stderr}");
}

#[test]
fn an_invalid_flags_document_fails_init_naming_the_flag_and_the_rule() {
    let flags = r#"{"beta_banner": {"default": false, "rules": {"premium customers": {"when_match": true,
        "conditions": [{"action": "LOOKS_LIKE", "key": "tier", "value": "premium"}]}}}}"#;
    let (code, _, stderr) = local_invoke(&[("HALO_PARAM_FLAGS", flags)]);
    assert_ne!(code, 0);
    assert!(stderr.contains("init failed"), "{stderr}");
    assert!(stderr.contains("beta_banner") && stderr.contains("premium customers"), "{stderr}");
}
