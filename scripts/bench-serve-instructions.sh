#!/usr/bin/env bash
# Instructions per invocation in the function process, sequential mode
# (AWS_LAMBDA_MAX_CONCURRENCY unset), under callgrind: the fixture binary
# (tests/src/bin/halo-fixture.rs) answers K and 2K echo invocations from a
# loopback Runtime API; the difference divided by K is one invocation's
# whole cost (Runtime API client, halo's intake and stack, the handler).
#
#   scripts/bench-serve-instructions.sh                 # this checkout
#   scripts/bench-serve-instructions.sh --against REV   # also REV, side by side
#
# With --against, REV is checked out into target/bench-serve-against with
# its own target directory, and the driver of this checkout runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
K=${K:-200}
repo=$PWD

cargo build --release -q -p halo-test-support --bin halo-fixture --bin halo-serve-count
driver="$repo/target/release/halo-serve-count"

count() { # binary iterations -> instructions
    local out
    out=$(mktemp)
    "$driver" "$2" "$out" "$1" >/dev/null 2>&1
    grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
    rm -f "$out"
}

per_invocation() { # binary -> instructions per invocation
    local once twice
    once=$(count "$1" "$K")
    twice=$(count "$1" $((2 * K)))
    echo $(((twice - once) / K))
}

printf '%-28s %s\n' "checkout" "instructions / invocation"
printf '%-28s %s\n' "this checkout" "$(per_invocation "$repo/target/release/halo-fixture")"
if [ "${1:-}" = "--against" ]; then
    dir="$repo/target/bench-serve-against"
    rm -rf "$dir"
    git worktree prune
    git worktree add --detach -q "$dir" "$2"
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --release -q -p halo-test-support --bin halo-fixture)
    printf '%-28s %s\n' "$2" "$(per_invocation "$dir/target/release/halo-fixture")"
    git worktree remove --force "$dir"
fi
