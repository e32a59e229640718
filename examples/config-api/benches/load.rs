//! Init-time load latency of `halo::params` against SSM emulated by moto on
//! loopback: `Params::load` of a path holding 10 and 100 parameters
//! (`GetParametersByPath`, 10 per page, decrypted, deserialized).
//!
//! `cargo bench -p config-api --bench load`. Lives here rather than in
//! `halo/benches` because it needs `halo-test-support` (moto harness),
//! which depends on `halo`. The hot-path read is in `halo/benches/params.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use halo::params::{Params, SsmSource};
use halo_test_support::moto::{Moto, unique_name};

#[derive(serde::Deserialize)]
struct Flat {
    #[allow(dead_code)]
    items: BTreeMap<String, String>,
}

fn load(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let moto = Moto::start();
    let client = runtime.block_on(async { aws_sdk_ssm::Client::new(&moto.sdk_config().await) });
    let params = Params::new(SsmSource::new(client.clone()));

    let mut group = c.benchmark_group("params_load_moto");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for count in [10usize, 100] {
        let path = format!("/{}/bench", unique_name("halo-bench"));
        runtime.block_on(async {
            for i in 0..count {
                client
                    .put_parameter()
                    .name(format!("{path}/items/key{i:03}"))
                    .value(format!("value-{i}"))
                    .r#type(if i % 10 == 0 { ParameterType::SecureString } else { ParameterType::String })
                    .send()
                    .await
                    .expect("put parameter");
            }
        });
        group.bench_with_input(BenchmarkId::from_parameter(count), &path, |b, path| {
            b.iter(|| runtime.block_on(params.load::<Flat>(path)).expect("load"));
        });
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
