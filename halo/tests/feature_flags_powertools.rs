//! halo's feature flags against Powertools for AWS Lambda (Python)'s:
//! `tests/powertools/feature_flags_oracle.py` generates documents and
//! contexts (every action, several rules and conditions, boolean and
//! non-boolean flags, missing keys, mixed value types, time conditions at
//! fixed instants in several zones, invalid documents) and evaluates them
//! with Powertools' own `FeatureFlags`; every case must give the same value,
//! the same enabled features, and a refusal of each document Powertools
//! refuses.
//!
//! Needs `aws-lambda-powertools==3.37.0` in the workspace's `.venv`
//! (`scripts/test.sh` installs it).

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use halo::feature_flags::{FeatureFlags, FlagDocument};
use halo::params::LiveConfig;
use halo::platform::ManualClock;
use serde_json::Value;

const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
const ORACLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/powertools/feature_flags_oracle.py");

/// Seeds and cases per seed: 4 000 cases in all.
const SEEDS: [u64; 4] = [1, 2, 3, 4];
const CASES: usize = 1_000;

fn require_powertools() {
    let check = Command::new(PYTHON)
        .args(["-c", "import aws_lambda_powertools.utilities.feature_flags"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        matches!(check, Ok(status) if status.success()),
        "{PYTHON} cannot import aws_lambda_powertools: run scripts/test.sh, which installs \
         aws-lambda-powertools==3.37.0 into .venv"
    );
}

fn oracle(seed: u64) -> Vec<Value> {
    let output = Command::new(PYTHON)
        .arg(ORACLE)
        .args(["--seed", &seed.to_string(), "--cases", &CASES.to_string()])
        .env("TZ", "UTC")
        .output()
        .expect("the oracle runs");
    assert!(output.status.success(), "the oracle failed: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout.lines().map(|line| serde_json::from_str(&line.expect("utf-8")).expect("a JSON line")).collect()
}

/// Checks one case; `Err` describes a disagreement.
fn check(case: &Value) -> Result<(), String> {
    let text = case["document"].as_str().ok_or("no document")?;
    let document = FlagDocument::from_json(text);
    if case.get("invalid").is_some() {
        return match document {
            Err(_) => Ok(()),
            Ok(_) => Err(format!("Powertools refuses the document ({}), halo accepts it", case["error"])),
        };
    }
    let document = document.map_err(|err| format!("halo refuses a document Powertools accepts: {err}"))?;
    let now_ms = case["now_ms"].as_u64().ok_or("no now_ms")?;
    let flags = FeatureFlags::new(LiveConfig::fixed(document)).clock(Arc::new(ManualClock::at(now_ms)));
    let context = &case["context"];
    let flag = case["flag"].as_str().ok_or("no flag")?;
    let default = &case["default"];
    let value: Value = flags.evaluate(flag, context, default.clone()).map_err(|err| err.to_string())?;
    if value != case["expected_value"] {
        return Err(format!("value: halo {value}, Powertools {}", case["expected_value"]));
    }
    let default_enabled = case["default_enabled"].as_bool().ok_or("no default_enabled")?;
    let enabled = flags.is_enabled(flag, context, default_enabled);
    if Some(enabled) != case["expected_enabled"].as_bool() {
        return Err(format!("is_enabled: halo {enabled}, Powertools' value {}", case["expected_value"]));
    }
    let features = Value::from(flags.enabled_features(context));
    if features != case["expected_enabled_features"] {
        return Err(format!("enabled features: halo {features}, Powertools {}", case["expected_enabled_features"]));
    }
    Ok(())
}

#[test]
fn halo_evaluates_as_powertools() {
    require_powertools();
    let started = Instant::now();
    let cases: Vec<Value> = std::thread::scope(|scope| {
        let runs: Vec<_> = SEEDS.iter().map(|&seed| scope.spawn(move || oracle(seed))).collect();
        runs.into_iter().flat_map(|run| run.join().expect("an oracle thread")).collect()
    });
    assert_eq!(cases.len(), SEEDS.len() * CASES);
    let invalid = cases.iter().filter(|case| case.get("invalid").is_some()).count();
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = check(case) {
            failures.push(format!("{why}\n  case: {case}"));
        }
    }
    for failure in failures.iter().take(10) {
        eprintln!("{failure}\n");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with Powertools (first ones above)",
        failures.len(),
        cases.len()
    );
    eprintln!(
        "{} cases ({invalid} invalid documents) agree with Powertools, in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
}
