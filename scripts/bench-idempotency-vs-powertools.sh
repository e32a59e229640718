#!/usr/bin/env bash
# halo's idempotency vs Powertools for AWS Lambda (Python) against the same
# moto server on loopback: latency and DynamoDB requests per call for a
# first call, a replay and a replay served by the local cache.
#
#   scripts/bench-idempotency-vs-powertools.sh [CALLS]   (default 300)
#
# Installs moto and aws-lambda-powertools into .venv when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-300}"

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

cargo bench -p halo --bench idempotency --no-run --quiet 2>/dev/null || cargo bench -p halo --bench idempotency --no-run
HALO="$(HALO_BENCH_SUMMARY="$CALLS" HALO_BENCH_MOTO_ENDPOINT="$ENDPOINT" cargo bench -p halo --bench idempotency --quiet 2>/dev/null)"
POWERTOOLS="$(.venv/bin/python scripts/bench_idempotency_powertools.py "$ENDPOINT" "$CALLS")"

HALO="$HALO" POWERTOOLS="$POWERTOOLS" .venv/bin/python - <<'PY'
import json, os
rows = {}
for line in (os.environ["HALO"] + "\n" + os.environ["POWERTOOLS"]).splitlines():
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        rows[(r["impl"], r["case"])] = r
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
PY
