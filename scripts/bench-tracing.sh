#!/usr/bin/env bash
# Tracing's cost per invocation (an invocation with 5 spans), in one run:
# tracing off, spans recorded and dropped, spans exported to an OTLP/HTTP
# receiver on loopback after each invocation. Each mode is a process of its
# own (tracing is set up once per process).
#
#   scripts/bench-tracing.sh            # criterion's default measurement
#   TIME=3 scripts/bench-tracing.sh     # seconds of measurement per mode
set -euo pipefail
cd "$(dirname "$0")/.."
TIME=${TIME:-5}
cargo bench -p halo-lambda --features full --bench tracing --no-run -q
for mode in off record export; do
    HALO_BENCH_TRACING=$mode cargo bench -p halo-lambda --features full --bench tracing -q -- \
        --warm-up-time 1 --measurement-time "$TIME" 2>&1 | grep -E "set up in|time:|receiver got"
done
