//! idempotent-payments under cargo-lambda's emulator (`cargo lambda watch
//! --only-lambda-apis`), invoked twice with the real CLI (`cargo lambda
//! invoke idempotent-payments --data-file events/charge.json`), the
//! idempotency table on moto: both answers are 2xx API Gateway responses
//! with the same receipt, and the card was charged once.

use std::path::Path;
use std::time::Instant;

use halo::idempotency::DynamoDbIdempotencyStore;
use halo_test_support::cargo_lambda::{Emulator, Invocation};
use halo_test_support::function::parse_json_lines;
use halo_test_support::moto::{Moto, unique_name};

const BINARY: &str = env!("CARGO_BIN_EXE_idempotent-payments");
const FUNCTION: &str = "idempotent-payments";

/// The API Gateway response's status code, if the CLI printed one.
fn status_code(invocation: &Invocation) -> Option<u64> {
    let answer: serde_json::Value = serde_json::from_str(invocation.stdout.trim()).ok()?;
    answer["statusCode"].as_u64()
}

/// The API Gateway response's body, if the CLI printed one.
fn body(invocation: &Invocation) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_str(invocation.stdout.trim()).ok()?;
    answer["body"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_invoked_twice_through_cargo_lambda_invoke_answers_the_same_receipt() {
    let started = Instant::now();
    let moto = Moto::start();
    let table = unique_name("payments");
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    DynamoDbIdempotencyStore::new(client, &table).create_table().await.unwrap();
    let mut env = moto.env();
    env.push(("HALO_IDEMPOTENCY_TABLE".into(), table));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let emulator = Emulator::start().await;
    let function = emulator.start_function(Path::new(BINARY), FUNCTION, &env);
    let ready = started.elapsed();

    let charge = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/charge.json");
    let first = emulator.invoke(FUNCTION, &charge).await;
    let second = emulator.invoke(FUNCTION, &charge).await;
    eprintln!("ready in {ready:?}, two invocations answered in {:?}", started.elapsed() - ready);

    let emulator_log = emulator.output();
    let stderr = function.stop();
    let ok = |i: &Invocation| i.status.success() && status_code(i).is_some_and(|s| (200..300).contains(&s));
    assert!(
        ok(&first) && ok(&second) && body(&first).is_some() && body(&first) == body(&second),
        "want two 2xx answers with the same body:\nfirst: {first:?}\nsecond: {second:?}\n\
         --- idempotent-payments stderr:\n{}\n--- cargo lambda watch:\n{}",
        stderr.join("\n"),
        emulator_log.join("\n")
    );
    let receipt: serde_json::Value = serde_json::from_str(&body(&first).unwrap()).unwrap();
    assert_eq!(receipt["payment_id"], "pay_7Hq2", "{receipt}");
    let lines = parse_json_lines(&stderr);
    let charged = lines.iter().filter(|l| l["message"] == "card charged").count();
    assert_eq!(charged, 1, "the card was charged once: {lines:?}");
    eprintln!("whole test (moto, table, emulator, function, invocations): {:?}", started.elapsed());
}
