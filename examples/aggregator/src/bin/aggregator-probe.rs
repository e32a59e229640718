//! The scheduled health probe (every minute, see `template.yaml`): checks
//! each service's `/health` and writes its breaker's shared state, so a
//! dead service is known to the fleet even before calls fail.

use std::sync::Arc;
use std::time::Duration;

use aggregator::services::Services;
use halo::breaker::store::BreakerStore;
use halo::breaker::{BreakerPolicy, DynamoDbBreakerStore, probe};
use serde_json::{Value, json};

/// The services to probe and the breakers' shared store.
struct Probe {
    services: Services,
    store: Arc<dyn BreakerStore>,
}

async fn init() -> Result<Probe, halo::Error> {
    let services = Services::from_env()?;
    // The probe only makes sense with the fleet's shared table (the same
    // variable `CircuitBreaker::from_env` reads).
    let table = std::env::var("HALO_BREAKER_TABLE")
        .map_err(|_| halo::Error::internal("HALO_BREAKER_TABLE must name the breaker table"))?;
    let client = halo::platform::dynamodb_client().await;
    Ok(Probe { services, store: Arc::new(DynamoDbBreakerStore::new(client, table)) })
}

#[halo::handler(init = init)]
async fn handler(_event: Value, _ctx: &halo::Ctx, state: &Probe) -> Result<Value, halo::Error> {
    let policy = BreakerPolicy::default().open_for(Duration::from_secs(10), Duration::from_secs(300));
    let mut health = serde_json::Map::new();
    for (name, url) in state.services.health_urls() {
        let found = probe(state.store.as_ref(), name, &url, &policy, Duration::from_secs(2))
            .await
            .map_err(|e| halo::Error::unavailable("the breaker table is unavailable").with_source(e))?;
        health.insert(name.to_owned(), json!(found == halo::breaker::Health::Healthy));
    }
    Ok(Value::Object(health))
}
