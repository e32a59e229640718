//! The scheduled health probe (every minute, see `template.yaml`): checks
//! each service's `/health` and writes its breaker's shared state, so a
//! dead service is known to the fleet even before calls fail.

use std::sync::Arc;
use std::time::Duration;

use aggregator::services;
use halo::breaker::{BreakerStore, DynamoDbBreakerStore, Policy, TABLE_ENV, probe};
use serde_json::{Value, json};

async fn init() -> Result<Arc<dyn BreakerStore>, String> {
    services::configure().map_err(|e| format!("HTTP client: {e}"))?;
    let table = std::env::var(TABLE_ENV).map_err(|_| format!("{TABLE_ENV} must name the breaker table"))?;
    let client = halo::platform::dynamodb_client().await;
    Ok(Arc::new(DynamoDbBreakerStore::new(client, table)))
}

#[halo::handler(init = init)]
async fn handler(_event: Value, _ctx: &halo::Ctx, store: &Arc<dyn BreakerStore>) -> Result<Value, halo::Error> {
    let policy = Policy::default().open_for(Duration::from_secs(10), Duration::from_secs(300));
    let mut health = serde_json::Map::new();
    for (name, url) in services::health_urls()? {
        let found = probe(store.as_ref(), name, &url, &policy, Duration::from_secs(2))
            .await
            .map_err(|e| halo::Error::unavailable("the breaker table is unavailable").with_source(e))?;
        health.insert(name.to_owned(), json!(found == halo::breaker::Health::Healthy));
    }
    Ok(Value::Object(health))
}
