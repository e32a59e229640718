//! A fixture with per-container state, for halo's init tests: init reads
//! `FIXTURE_TABLE` (failing when `FIXTURE_INIT_FAIL` is set or the variable
//! is missing) and counts how often it ran.

use std::sync::atomic::{AtomicUsize, Ordering};

static INIT_RUNS: AtomicUsize = AtomicUsize::new(0);

struct State {
    table: String,
}

async fn init() -> Result<State, String> {
    INIT_RUNS.fetch_add(1, Ordering::SeqCst);
    if std::env::var_os("FIXTURE_INIT_FAIL").is_some() {
        return Err("FIXTURE_TABLE is not configured".to_owned());
    }
    let table = std::env::var("FIXTURE_TABLE").map_err(|_| "FIXTURE_TABLE is not set".to_owned())?;
    Ok(State { table })
}

#[halo::handler(init = init)]
async fn handler(_event: serde_json::Value, _ctx: &halo::Ctx, state: &State) -> Result<serde_json::Value, halo::Error> {
    Ok(serde_json::json!({ "table": state.table, "init_runs": INIT_RUNS.load(Ordering::SeqCst) }))
}
