#!/usr/bin/env bash
# Instructions per invocation under callgrind: stable figures whatever else
# the machine does (wall-clock figures on shared 2-core machines swing by
# +-30 %).
#
#   scripts/bench-instructions.sh                 # this checkout
#   scripts/bench-instructions.sh --against REV   # also REV, side by side
#
# Each path of halo/benches/instructions.rs runs N and 2N times; the
# difference divided by N is the cost of one invocation without set-up.
# With --against, REV is checked out into target/bench-against (the
# harness files are copied in when REV predates them) and measured in the
# same run.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
PATHS=${PATHS:-"bare halo halo_error"} # also: scan (the event scan alone)
AGAINST=""
if [ "${1:-}" = "--against" ]; then AGAINST=$2; fi

# The library's package in checkout $1: `halo-lambda`, or `halo` before
# the rename.
package() {
    if grep -q '^name = "halo-lambda"' "$1/halo/Cargo.toml"; then echo halo-lambda; else echo halo; fi
}

build() { # dir -> path of the instructions binary
    # With --against both checkouts' halo crates share one artifact name in
    # one target directory, and cargo can take the other's for fresh:
    # remove it first.
    local pkg
    pkg=$(package "$1")
    (cd "$1" && cargo clean -p "$pkg" --release -q && cargo bench -p "$pkg" --bench instructions --no-run --message-format=json 2>/dev/null) \
        | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])'
}

count() { # binary path iterations -> instructions
    local out
    out=$(mktemp)
    HALO_BENCH_PATH=$2 HALO_BENCH_ITERS=$3 valgrind --tool=callgrind --callgrind-out-file="$out" "$1" >/dev/null 2>&1
    grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
    rm -f "$out"
}

per_invocation() { # binary path -> instructions per invocation
    local one two
    one=$(count "$1" "$2" "$N")
    two=$(count "$1" "$2" $((2 * N)))
    echo $(((two - one) / N))
}

measure() { # label binary
    local bare=""
    for path in $PATHS; do
        local n
        n=$(per_invocation "$2" "$path")
        [ "$path" = bare ] && bare=$n
        if [ -n "$bare" ] && [ "$path" != bare ]; then
            printf '%-12s %-12s %10d instructions  (+%d over bare)\n' "$1" "$path" "$n" $((n - bare))
        else
            printf '%-12s %-12s %10d instructions\n' "$1" "$path" "$n"
        fi
    done
}

here=$(build .)
measure "this" "$here"
if [ -n "$AGAINST" ]; then
    dir=target/bench-against
    if [ ! -d "$dir" ]; then git worktree add -q --detach "$dir" "$AGAINST"; else git -C "$dir" checkout -q --detach "$AGAINST"; fi
    if [ ! -f "$dir/halo/benches/instructions.rs" ]; then
        mkdir -p "$dir/halo/benches/support"
        cp halo/benches/instructions.rs "$dir/halo/benches/"
        cp halo/benches/support/invocation.rs "$dir/halo/benches/support/"
        printf '\n[[bench]]\nname = "instructions"\nharness = false\n' >> "$dir/halo/Cargo.toml"
    fi
    base=$(CARGO_TARGET_DIR="$PWD/target" build "$dir")
    measure "$AGAINST" "$base"
    # Drop REV's halo so this checkout's next build is its own.
    cargo clean -p "$(package .)" --release -q
fi
