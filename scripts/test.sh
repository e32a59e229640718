#!/usr/bin/env bash
# halo's whole test suite: the command the README names and CI runs.
#
# Installs what the tests need when it is missing (moto in .venv, see
# ../shared/TESTING.md), then runs format, lint, doc, test and bench-build
# checks. Every test talks to loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x .venv/bin/moto_server ]; then
    step "installing moto into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi
if [ ! -x .venv/bin/cargo-lambda ]; then
    step "installing cargo-lambda into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check "cargo-lambda==1.9.2"
fi

# An AWS SDK must never probe instance metadata or reach a real endpoint.
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_LAMBDA_RUNTIME_API AWS_PROFILE || true

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc"
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps

step "cargo test"
cargo test --workspace

step "cargo bench --no-run"
cargo bench --workspace --no-run

# The deploy path: a Lambda bootstrap built the way users build it (x86_64;
# --arm64 needs an aarch64 std this machine cannot fetch). zig's cache stays
# inside target/.
step "cargo lambda build --release -p hello-api"
PATH="$PWD/.venv/bin:$PATH" XDG_CACHE_HOME="$PWD/target/xdg-cache" cargo lambda build --release -p hello-api
test -x target/lambda/hello-api/bootstrap
