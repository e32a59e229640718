#!/usr/bin/env bash
# halo's idempotency vs Powertools for AWS Lambda (Python) against the same
# moto server on loopback: latency and DynamoDB requests per call for a
# first call, a replay and a replay served by the local cache, then how
# much of each is moto's own service time (the same requests sent raw).
#
#   scripts/bench-idempotency-vs-powertools.sh [CALLS] [ROUNDS]   (default 300, 5)
#
# The three measurements alternate in ROUNDS rounds of CALLS/ROUNDS calls
# each and every figure is the median of its rounds, so a drift of the
# shared machine (or of moto) hits all sides alike.
#
# Installs moto and aws-lambda-powertools into .venv when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-300}"
ROUNDS="${2:-5}"
PER_ROUND=$(( (CALLS + ROUNDS - 1) / ROUNDS ))

if [ ! -x .venv/bin/moto_server ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi
if ! .venv/bin/python -c "import aws_lambda_powertools" 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check "aws-lambda-powertools==3.37.0"
fi

export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_LAMBDA_RUNTIME_API || true

PORT="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
ENDPOINT="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
    curl -fsS "$ENDPOINT/moto-api/" >/dev/null 2>&1 && break
    sleep 0.1
done

cargo bench -p halo-lambda --bench idempotency --no-run --quiet 2>/dev/null || cargo bench -p halo-lambda --bench idempotency --no-run
LINES=""
for _ in $(seq 1 "$ROUNDS"); do
    LINES+="$(HALO_BENCH_SUMMARY="$PER_ROUND" HALO_BENCH_MOTO_ENDPOINT="$ENDPOINT" cargo bench -p halo-lambda --bench idempotency --quiet 2>/dev/null)"$'\n'
    LINES+="$(.venv/bin/python scripts/bench_idempotency_powertools.py "$ENDPOINT" "$PER_ROUND")"$'\n'
    LINES+="$(.venv/bin/python scripts/bench_moto_service_time.py "$ENDPOINT" "$PER_ROUND")"$'\n'
done

LINES="$LINES" .venv/bin/python - <<'PY'
import json, os, statistics
samples = {}
for line in os.environ["LINES"].splitlines():
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        samples.setdefault((r["impl"], r["case"]), []).append(r)
rows = {
    key: {
        "ms_per_call": statistics.median(r["ms_per_call"] for r in runs),
        "requests_per_call": statistics.median(r.get("requests_per_call", 0) for r in runs),
    }
    for key, runs in samples.items()
}
print(f"{len(next(iter(samples.values())))} rounds, medians")
print(f"{'case':<20} {'halo ms':>9} {'powertools ms':>14} {'speed-up':>9} {'halo req':>9} {'powertools req':>15}")
for case in ["sdk_request_floor", "first_call", "replay", "replay_local_cache"]:
    h, p = rows[("halo", case)], rows[("powertools", case)]
    ratio = p["ms_per_call"] / h["ms_per_call"] if h["ms_per_call"] else float("inf")
    print(f"{case:<20} {h['ms_per_call']:>9.3f} {p['ms_per_call']:>14.3f} {ratio:>8.1f}x {h['requests_per_call']:>9.2f} {p['requests_per_call']:>15.2f}")
floor_h, floor_p = rows[("halo", "sdk_request_floor")]["ms_per_call"], rows[("powertools", "sdk_request_floor")]["ms_per_call"]
print("\nabove the floor (latency minus requests x one bare SDK request of the same language):")
for case in ["first_call", "replay"]:
    h, p = rows[("halo", case)], rows[("powertools", case)]
    above_h = h["ms_per_call"] - h["requests_per_call"] * floor_h
    above_p = p["ms_per_call"] - p["requests_per_call"] * floor_p
    print(f"{case:<20} halo {above_h:>7.3f} ms   powertools {above_p:>7.3f} ms")

print("\nmoto's share (the same requests sent raw over one connection, no SDK):")
print(f"{'case':<20} {'moto halo':>10} {'moto pt':>8} {'client halo':>12} {'client pt':>10} {'best ratio':>11}")
for case in ["first_call", "replay"]:
    h, p = rows[("halo", case)], rows[("powertools", case)]
    mh, mp = rows[("moto:halo", case)]["ms_per_call"], rows[("moto:powertools", case)]["ms_per_call"]
    # The ratio a halo with zero client-side time would reach against this Powertools run.
    best = p["ms_per_call"] / mh
    print(f"{case:<20} {mh:>10.3f} {mp:>8.3f} {h['ms_per_call'] - mh:>12.3f} {p['ms_per_call'] - mp:>10.3f} {best:>10.2f}x")
PY
