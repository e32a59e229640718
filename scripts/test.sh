#!/usr/bin/env bash
# halo's whole test suite: the command the README names and CI runs.
#
# Installs what the tests need when it is missing (moto, cargo-lambda,
# cfn-lint and aws-lambda-powertools in .venv, dynalite in .npm, see CONTRIBUTING.md), then runs format, lint, feature, doc, test
# and deploy-build checks, printing how long each step took. Every test
# talks to loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step_started=$SECONDS
step() {
    printf '\n==> %s   (previous step: %ds, total: %ds)\n' "$*" $((SECONDS - step_started)) $((SECONDS - started))
    step_started=$SECONDS
}

if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/cargo-lambda ] || [ ! -x .venv/bin/cfn-lint ] \
    || ! .venv/bin/python -c 'import aws_lambda_powertools' 2>/dev/null; then
    step "installing moto, cargo-lambda, cfn-lint and aws-lambda-powertools into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==5.2.5" "cargo-lambda==1.9.2" "cfn-lint==1.58.0" \
        "aws-lambda-powertools==3.37.0"
fi

if [ ! -x .npm/node_modules/.bin/dynalite ]; then
    step "installing dynalite into .npm"
    npm install --prefix .npm --no-audit --no-fund --silent dynalite@4.0.0
fi

# An AWS SDK must never probe instance metadata or reach a real endpoint.
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_LAMBDA_RUNTIME_API AWS_PROFILE AWS_ENDPOINT_URL || true

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (workspace, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

# halo without default features, each feature alone, and durable execution
# with tracing build without a warning, so a feature-gated break cannot
# land (every feature together is the workspace's clippy above).
for features in "" batch http-client aws dynamodb ssm secrets-manager appconfig axum metrics-facade otel fanout durable-execution "otel,durable-execution"; do
    step "cargo clippy -p halo-lambda --no-default-features --features '$features'"
    cargo clippy -p halo-lambda --lib --no-default-features --features "$features" -- -D warnings
done

# Every example's CloudFormation/SAM template, including the Lambda
# Managed Instances variant, against the resource schemas.
step "cfn-lint examples/*/template*.yaml"
.venv/bin/cfn-lint examples/*/template*.yaml

# The published crates' documentation (the guide is halo's rustdoc).
step "cargo doc"
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps --all-features -p halo-lambda -p halo-lambda-macros

# Unit, integration and end-to-end tests, trybuild cases, and every
# benchmark once in test mode (so each compiles and runs; timing runs are
# `cargo bench`, by hand).
step "cargo test (all targets)"
cargo test --workspace --all-targets

step "cargo test --doc"
cargo test --workspace --doc

# A crate outside the workspace, written from README.md the way a new user
# writes one (its sources hold the README's snippets), with its own fresh
# dependency resolution (no lock file: the newest versions halo's ranges
# allow, as a user gets them), built with this workspace's target directory
# so the crates both resolutions share are compiled once. A warning from
# any local crate (halo included: a path dependency's warnings are shown)
# fails the step.
step "new-user crate: fresh resolution, clippy -D warnings, cargo test"
rm -f tests/new-user/Cargo.lock
new_user_log=target/new-user-build.log
mkdir -p target
CARGO_TARGET_DIR="$PWD/target" cargo clippy --manifest-path tests/new-user/Cargo.toml --all-targets -- -D warnings 2>&1 | tee "$new_user_log"
CARGO_TARGET_DIR="$PWD/target" cargo test --manifest-path tests/new-user/Cargo.toml 2>&1 | tee -a "$new_user_log"
if grep -E '^warning' "$new_user_log"; then
    echo "error: building halo in a fresh resolution printed the warnings above" >&2
    exit 1
fi

# The crates as they would be published (package `halo-lambda`, library
# `halo`; `halo-lambda-macros`): each is packaged and its packaged sources
# build on their own, so a file left out or a dependency without a version
# fails here, not on crates.io.
step "cargo package -p halo-lambda-macros -p halo-lambda"
cargo package -p halo-lambda-macros -p halo-lambda --allow-dirty --quiet

# The deploy path: a Lambda bootstrap built the way users build it (x86_64;
# --arm64 needs an aarch64 std this machine cannot fetch). zig's cache stays
# inside target/.
step "cargo lambda build --release -p hello-api"
PATH="$PWD/.venv/bin:$PATH" XDG_CACHE_HOME="$PWD/target/xdg-cache" cargo lambda build --release -p hello-api
test -x target/lambda/hello-api/bootstrap

step "done"
