//! Drives a function binary run under callgrind: `K` sequential echo
//! invocations from a loopback Runtime API, then SIGTERM. Used by
//! `scripts/bench-serve-instructions.sh`, which runs it with K and 2K and
//! divides the difference of the function's instruction counts by K: the
//! whole Lambda-side cost of one invocation in the function process
//! (Runtime API client, halo's intake and stack, the handler), without
//! start-up.
//!
//! ```text
//! halo-serve-count K CALLGRIND_OUT BINARY
//! ```

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use halo_test_support::function::{FunctionProcess, lambda_command};
use halo_test_support::runtime_api::RuntimeApi;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, out, binary] = args.as_slice() else {
        eprintln!("usage: halo-serve-count K CALLGRIND_OUT BINARY");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("K is a number");
    let api = RuntimeApi::start().await;
    let lambda = lambda_command(Path::new(binary), &api.address());
    let mut command = Command::new("valgrind");
    command.args(["--tool=callgrind", &format!("--callgrind-out-file={out}"), binary.as_str()]).env_clear();
    for (key, value) in lambda.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let mut function = FunctionProcess::spawn(command, &[]);
    let event = serde_json::json!({ "action": "echo", "value": "bench" });
    for _ in 0..count {
        let outcome = api.invoke(&event, Duration::from_secs(60)).await;
        assert!(outcome.success, "{:?}", outcome.body);
    }
    function.terminate();
    assert!(function.wait_exit(Duration::from_secs(60)).await, "the function exits after SIGTERM");
}
