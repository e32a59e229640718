//! The new user's binaries, run as a user runs them: `invoke` on event
//! files (one warm process per command line), and inside Lambda against a
//! loopback Runtime API. Only the standard library: a user's crate has
//! nothing more.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin(name: &str) -> Command {
    let path = match name {
        "hello" => env!("CARGO_BIN_EXE_hello"),
        "manual-main" => env!("CARGO_BIN_EXE_manual-main"),
        "init" => env!("CARGO_BIN_EXE_init"),
        "charge" => env!("CARGO_BIN_EXE_charge"),
        "trip" => env!("CARGO_BIN_EXE_trip"),
        "config" => env!("CARGO_BIN_EXE_config"),
        "orders" => env!("CARGO_BIN_EXE_orders"),
        other => panic!("no binary {other}"),
    };
    let mut command = Command::new(path);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("HALO_IDEMPOTENCY_TABLE")
        .env_remove("HALO_SAGA_TABLE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    command
}

fn invoke(name: &str, events: &[&str]) -> Output {
    let mut command = bin(name);
    command.arg("invoke").args(events.iter().map(|e| Path::new("events").join(e)));
    command.output().expect("the binary runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The log lines on stderr whose message is `message`.
fn count_logged(output: &Output, message: &str) -> usize {
    stderr(output).lines().filter(|l| l.contains(&format!("\"message\":\"{message}\""))).count()
}

#[test]
fn the_readme_handler_answers_with_and_without_the_macro() {
    for name in ["hello", "manual-main"] {
        let output = invoke(name, &["order.json"]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stdout_lines(&output), [r#"{"id":"o-1","status":"accepted"}"#], "{name}");
        assert_eq!(count_logged(&output, "accepted"), 1, "{name}: {}", stderr(&output));
    }
}

#[test]
fn init_state_reaches_the_handler_and_a_failed_init_exits() {
    let mut command = bin("init");
    command.args(["invoke", "-"]).env("TABLE_NAME", "orders").stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = command.stderr(Stdio::piped()).spawn().expect("init runs");
    child.stdin.take().expect("stdin").write_all(br#""o-1""#).expect("event written");
    let output = child.wait_with_output().expect("init ends");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output), [r#""o-1 is stored in orders""#]);

    let output = bin("init").args(["invoke", "events/order.json"]).env_remove("TABLE_NAME").output().expect("runs");
    assert!(!output.status.success(), "init without TABLE_NAME must fail");
    assert!(stderr(&output).contains("environment variable not found"), "{}", stderr(&output));
}

#[test]
fn a_replayed_charge_gets_the_same_receipt_without_charging_again() {
    let output = invoke("charge", &["charge.json", "charge.json", "charge-tampered.json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].contains(r#""statusCode":201"#), "{}", lines[0]);
    assert_eq!(lines[0], lines[1], "the replay is the stored response");
    assert_eq!(count_logged(&output, "card charged"), 1, "the card is charged once: {}", stderr(&output));
    assert!(lines[2].contains(r#""statusCode":422"#) && lines[2].contains("PayloadMismatch"), "{}", lines[2]);
}

#[test]
fn a_saga_rolls_back_with_a_409_and_a_replayed_run_does_not_rebook() {
    let output = invoke("trip", &["trip.json", "trip.json", "trip-no-flight.json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].contains(r#""statusCode":201"#) && lines[0].contains("flight-to-lisbon"), "{}", lines[0]);
    assert_eq!(lines[0], lines[1], "the second run of saga t-1 returns its recorded outcome");
    // t-1 booked once (the replay runs no step), t-2 booked and cancelled.
    assert_eq!(count_logged(&output, "hotel booked"), 2, "{}", stderr(&output));
    assert_eq!(count_logged(&output, "hotel cancelled"), 1, "{}", stderr(&output));
    assert!(lines[2].contains(r#""statusCode":409"#) && lines[2].contains("SagaRolledBack"), "{}", lines[2]);
}

#[test]
fn typed_settings_come_from_the_environment_and_the_secret_is_never_logged() {
    let output = bin("config")
        .args(["invoke", "events/charge.json"])
        .env("HALO_PARAM_GREETING", "hello")
        .env("HALO_PARAM_LIMITS__MAX_ITEMS", "5")
        .env("HALO_PARAM_ALLOWED_ORIGINS", "https://a.example")
        .env("HALO_PARAM_API_KEY", "s3cr3t-value")
        .output()
        .expect("config runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert!(lines[0].contains(r#"\"message\":\"hello, world\""#) && lines[0].contains(r#"\"max_items\":5"#), "{lines:?}");
    assert_eq!(count_logged(&output, "settings read"), 1);
    assert!(!stderr(&output).contains("s3cr3t"), "the secret reached a log line");
    assert!(!lines[0].contains("s3cr3t"));
}

#[test]
fn a_batch_reports_only_the_failed_record() {
    let output = invoke("orders", &["orders-batch.json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output), [r#"{"batchItemFailures":[{"itemIdentifier":"9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a"}]}"#]);
    assert_eq!(count_logged(&output, "shipped"), 1);
}

#[test]
fn a_local_run_writes_its_metrics_on_stderr() {
    let output = bin("orders")
        .env("HALO_METRICS_NAMESPACE", "Shop")
        .args(["invoke", "events/orders-batch.json", "events/orders-batch.json"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    let emf: Vec<&str> = text.lines().filter(|l| l.starts_with(r#"{"_aws":"#)).collect();
    // The first invocation: its ColdStart line, then its metrics; the
    // second: its metrics only.
    assert_eq!(emf.len(), 3, "{text}");
    assert!(emf[0].contains(r#""Namespace":"Shop""#) && emf[0].contains(r#""ColdStart":1"#), "{}", emf[0]);
    for line in &emf[1..] {
        assert!(line.contains(r#""OrdersShipped":1"#) && line.contains(r#""ItemsShipped":2"#), "{line}");
        assert!(line.contains(r#""Dimensions":[["service"]]"#), "{line}");
    }
    assert!(stdout_lines(&output).iter().all(|l| !l.contains("_aws")), "responses alone on stdout");
}

/// What a loopback Runtime API received: (request line, body).
type Received = mpsc::Receiver<(String, String)>;

/// A Runtime API on loopback that answers every request `202` with an
/// empty body (enough for an init that fails) and reports what it got.
fn runtime_api() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let address = listener.local_addr().expect("address").to_string();
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sender = sender.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("stream clone");
                let mut reader = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        if header == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let _ = sender.send((request_line.trim().to_owned(), String::from_utf8_lossy(&body).into_owned()));
                    let answer = "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}";
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, received)
}

fn init_error_inside_lambda(name: &str, variable: &str) {
    let (address, received) = runtime_api();
    let mut child = bin(name)
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{name} did not exit after a failed init");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut logs = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut logs).expect("logs");
    assert!(!status.success(), "{name} exits with a failure");
    let requests: Vec<(String, String)> = received.try_iter().collect();
    let init_error = requests.iter().find(|(line, _)| line.contains("/runtime/init/error"));
    let (_, body) = init_error.unwrap_or_else(|| panic!("{name} reported no init error: {requests:?}\n{logs}"));
    assert!(body.contains(variable), "the init error names {variable}: {body}");
    assert!(!requests.iter().any(|(line, _)| line.contains("/invocation/next")), "no invocation after a failed init");
    assert!(logs.contains(variable), "the log names {variable}: {logs}");
}

#[test]
fn inside_lambda_a_missing_table_fails_the_init_and_names_its_variable() {
    init_error_inside_lambda("charge", "HALO_IDEMPOTENCY_TABLE");
    init_error_inside_lambda("trip", "HALO_SAGA_TABLE");
}
