#!/usr/bin/env bash
# Clean build of a hello-world handler on halo (default features) next to a
# bare lambda_runtime hello world, built the same way in the same run: the
# number of crates compiled and the wall time of each.
#
#   scripts/bench-build.sh            # dev profile
#   PROFILE=release scripts/bench-build.sh   # also their cold starts
#
# Both crates live in a temporary folder outside the workspace, depend on
# what a user's crate would, and use a copy of halo's Cargo.lock (the same
# dependency versions, no resolution); each gets its own empty target
# directory.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
profile="${PROFILE:-dev}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_crate() { # name, dependencies, main.rs
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[workspace]\n\n[dependencies]\n%s\n' "$1" "$2" >"$work/$1/Cargo.toml"
    printf '%s\n' "$3" >"$work/$1/src/main.rs"
    cp "$repo/Cargo.lock" "$work/$1/Cargo.lock"
}

make_crate bare-hello 'lambda_runtime = "1.5"
tokio = { version = "1", features = ["macros", "rt"] }
serde_json = "1"' 'use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}'

make_crate halo-hello "halo = { path = \"$repo/halo\" }
serde_json = \"1\"" '#[halo::handler]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    Ok(event)
}'

printf '%-12s %8s %8s\n' crate crates seconds
for name in bare-hello halo-hello; do
    started=$(date +%s.%N)
    crates=$(cd "$work/$name" && CARGO_TARGET_DIR="$work/$name/target" cargo build --offline --profile "$profile" 2>&1 |
        grep -c '^ *Compiling ')
    ended=$(date +%s.%N)
    printf '%-12s %8d %8.1f\n' "$name" "$crates" "$(echo "$ended - $started" | bc)"
done

# With PROFILE=release, the cold start of the two binaries just built
# (halo's default features only), measured as halo-cold-start does:
# process start to the first Runtime API poll, in alternation.
if [ "$profile" = release ]; then
    cold="$repo/target/release/halo-cold-start"
    [ -x "$cold" ] || (cd "$repo" && cargo build --release -q -p halo-test-support --bin halo-cold-start)
    "$cold" "${RUNS:-20}" "$work/bare-hello/target/release/bare-hello" "$work/halo-hello/target/release/halo-hello"
fi
