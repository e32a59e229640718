//! The cost of evaluating a feature flag with `halo::feature_flags`.
//!
//! `cargo bench -p halo-lambda --bench feature_flags`
//!
//! - `bool_first_rule`: `is_enabled` on a boolean flag of three rules
//!   (three conditions each, an `IN` and a `MODULO_RANGE` among them), the
//!   first rule matching;
//! - `bool_last_rule`: the same flag, evaluated through to its last rule
//!   (a schedule in `Europe/Paris`, one clock read and a zone conversion);
//! - `bool_default`: the same flag, no rule matching (the default);
//! - `missing_flag`: a name the document lacks (the caller's default);
//! - `non_bool_u32` / `non_bool_json`: `evaluate` on a non-boolean flag,
//!   into a `u32` and into a `serde_json::Value` (an object, cloned);
//! - `enabled_features`: the names of the on flags (a `Vec<String>`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use halo::feature_flags::{FeatureFlags, FlagDocument};
use halo::params::LiveConfig;
use halo::platform::ManualClock;
use serde_json::{Value, json};

/// The flags evaluated here and in the allocation test.
const DOCUMENT: &str = include_str!("../tests/fixtures/feature_flags.json");

fn evaluation(c: &mut Criterion) {
    let document = FlagDocument::from_json(DOCUMENT).expect("a valid document");
    // 2024-06-14T22:00:00Z: midnight in Paris, inside the night rule.
    let flags = FeatureFlags::new(LiveConfig::fixed(document)).clock(Arc::new(ManualClock::at(1_718_402_400_000)));
    let first = json!({"team": "staff", "country": "FR", "email": "ops-1@example.com", "client": "etl"});
    let last = json!({"team": "dev", "country": "FR", "user_id": 1250, "tier_level": 3, "groups": []});
    let none = json!({"team": "dev", "country": "US", "user_id": 1250, "tier_level": 3, "groups": []});
    assert!(flags.is_enabled("new_checkout", &first, false));
    assert!(flags.is_enabled("new_checkout", &last, false));
    assert!(!flags.is_enabled("new_checkout", &none, false));
    assert_eq!(flags.evaluate("page_size", &first, 10_u32).expect("a u32"), 500);

    let mut group = c.benchmark_group("feature_flags");
    group.bench_function("bool_first_rule", |b| b.iter(|| flags.is_enabled(black_box("new_checkout"), &first, false)));
    group.bench_function("bool_last_rule", |b| b.iter(|| flags.is_enabled(black_box("new_checkout"), &last, false)));
    group.bench_function("bool_default", |b| b.iter(|| flags.is_enabled(black_box("new_checkout"), &none, false)));
    group.bench_function("missing_flag", |b| b.iter(|| flags.is_enabled(black_box("no_such_flag"), &none, false)));
    group.bench_function("non_bool_u32", |b| {
        b.iter(|| flags.evaluate(black_box("page_size"), &first, 10_u32).expect("a u32"))
    });
    group.bench_function("non_bool_json", |b| {
        b.iter(|| flags.evaluate(black_box("theme"), &first, Value::Null).expect("a value"))
    });
    group.bench_function("enabled_features", |b| b.iter(|| flags.enabled_features(black_box(&first))));
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
