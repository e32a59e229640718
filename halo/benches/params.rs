//! Hot-path cost of reading configuration with `halo::params` (goal: under
//! 100 ns, no I/O).
//!
//! `cargo bench -p halo-lambda --bench params`
//!
//! - `config_get`: [`LiveConfig::get`] on a loaded, refreshable config (an
//!   `ArcSwap` guard, one clock read for the max-age check);
//! - `config_get_into_arc`: the same, kept as an `Arc` (one more atomic
//!   increment and decrement);
//! - `config_get_field`: the same plus reading a nested field, what a
//!   handler does;
//! - `config_get_fixed`: [`LiveConfig::fixed`] (no max-age check), for scale;
//! - `cached_single_get`: `Params::get::<u32>` of a cached single parameter
//!   (a mutex-guarded map look-up plus parsing the text), for comparison.
//!
//! The init-time load latency against moto (10 and 100 parameters) is in
//! `examples/config-api/benches/load.rs`: it needs the moto harness of
//! `halo-test-support`, which depends on `halo`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use halo::params::{EnvSource, LiveConfig, Params, Secret};

#[derive(serde::Deserialize)]
struct Db {
    host: String,
    port: u16,
    password: Secret<String>,
}

#[derive(serde::Deserialize)]
struct Settings {
    greeting: String,
    origins: Vec<String>,
    db: Db,
}

fn hot_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let params = Params::new(EnvSource::from_vars([
        ("HALO_PARAM_GREETING", "hello"),
        ("HALO_PARAM_ORIGINS", "https://a.example,https://b.example"),
        ("HALO_PARAM_DB__HOST", "db.internal"),
        ("HALO_PARAM_DB__PORT", "5432"),
        ("HALO_PARAM_DB__PASSWORD", "hunter2"),
        ("HALO_PARAM_SHOP__PROD__PORT", "8080"),
    ]));
    let config: LiveConfig<Settings> = runtime.block_on(params.load("/shop/prod")).expect("load");
    let settings = config.get();
    assert_eq!(
        (settings.greeting.as_str(), settings.origins.len(), settings.db.host.as_str()),
        ("hello", 2, "db.internal")
    );
    assert_eq!(settings.db.password.expose(), "hunter2");
    let fixed = LiveConfig::fixed(42u64);

    let mut group = c.benchmark_group("params_hot_path");
    group.bench_function("config_get", |b| b.iter(|| black_box(config.get())));
    group.bench_function("config_get_field", |b| b.iter(|| black_box(config.get().db.port)));
    group.bench_function("config_get_into_arc", |b| b.iter(|| black_box(config.get().into_arc())));
    group.bench_function("config_get_fixed", |b| b.iter(|| black_box(fixed.get())));
    runtime.block_on(params.get::<u32>("/shop/prod/port")).expect("first read");
    group.bench_function("cached_single_get", |b| {
        b.iter(|| runtime.block_on(params.get::<u32>(black_box("/shop/prod/port"))).expect("cached"))
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
