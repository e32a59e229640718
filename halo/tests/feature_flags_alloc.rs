//! `FeatureFlags::is_enabled` allocates nothing: a boolean flag of three
//! rules (several conditions each, a `MODULO_RANGE` and an `IN` among
//! them, and a schedule) evaluated through to each rule and to the default,
//! under a global allocator that counts. A test binary of its own without
//! libtest's harness (`harness = false`): the allocator counts every
//! thread's allocations, and the harness's threads allocate at times.

use std::sync::Arc;

use halo::feature_flags::{FeatureFlags, FlagDocument};
use halo::params::LiveConfig;
use halo::platform::ManualClock;
use serde_json::json;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static COUNTING: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// The flags the benchmark evaluates too.
const DOCUMENT: &str = include_str!("fixtures/feature_flags.json");

fn main() {
    is_enabled_allocates_nothing();
    println!("is_enabled allocates nothing: ok");
}

fn is_enabled_allocates_nothing() {
    let document = FlagDocument::from_json(DOCUMENT).expect("a valid document");
    // 2024-06-14T12:00:00Z: 14:00 in Paris, outside the night rule.
    let clock = ManualClock::at(1_718_366_400_000);
    let flags = FeatureFlags::new(LiveConfig::fixed(document)).clock(Arc::new(clock.clone()));
    let first_rule = json!({"team": "staff", "country": "FR", "email": "ops-1@example.com", "user_id": 1234});
    let second_rule = json!({"team": "dev", "country": "FR", "user_id": 1205, "tier_level": 3, "groups": ["premium"]});
    let third_rule = json!({"team": "dev", "country": "FR", "user_id": 1250, "tier_level": 3, "groups": []});
    let pairs = [("team", json!("dev")), ("country", json!("US")), ("user_id", json!(7))];
    let answers = || {
        [
            flags.is_enabled("new_checkout", &first_rule, false),
            flags.is_enabled("new_checkout", &second_rule, false),
            flags.is_enabled("new_checkout", &third_rule, false),
            flags.is_enabled("new_checkout", &pairs, false),
            flags.is_enabled("no_such_flag", &pairs, true),
        ]
    };

    // Warm up: the first read of a LiveConfig on a thread may set up that
    // thread's slot, the first conversion to a zone's time its cache.
    assert_eq!(answers(), [true, true, false, false, true]);

    let region = Region::new(COUNTING);
    let mut agreed = 0;
    for _ in 0..100 {
        agreed += usize::from(answers() == [true, true, false, false, true]);
    }
    let during = region.change();
    assert_eq!(agreed, 100);
    assert_eq!(during.allocations + during.reallocations, 0, "is_enabled allocated: {during:?}");

    // At night in Paris the third rule matches, still without allocating.
    clock.set_ms(1_718_402_400_000); // 22:00Z, midnight in Paris
    let region = Region::new(COUNTING);
    let night = flags.is_enabled("new_checkout", &third_rule, false);
    let stats = region.change();
    assert!(night);
    assert_eq!(stats.allocations + stats.reallocations, 0, "is_enabled allocated: {stats:?}");
}
