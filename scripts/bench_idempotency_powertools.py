"""Powertools for AWS Lambda (Python) idempotency against a moto server.

The same work as halo's `halo/benches/idempotency.rs`: an API Gateway REST
event, key `powertools_json(body).payment_id`, validation of
`powertools_json(body).amount`, a DynamoDB table with Powertools' schema.
Prints one JSON line per case: latency per call and DynamoDB requests per
call (counted with a botocore `before-send` hook).

Usage: bench_idempotency_powertools.py ENDPOINT CALLS
"""

import json
import os
import sys
import time
import uuid

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

ENDPOINT, CALLS = sys.argv[1], int(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
EVENT_FILE = os.path.join(HERE, "..", "examples", "idempotent-payments", "events", "charge.json")

os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "bench")
client = boto3.client(
    "dynamodb",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
requests = {"count": 0}


def count(**_kwargs):
    requests["count"] += 1


client.meta.events.register("before-send.dynamodb.*", count)

table = f"bench-powertools-{uuid.uuid4().hex[:8]}"
client.create_table(
    TableName=table,
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    BillingMode="PAY_PER_REQUEST",
)
client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})


class Context:
    """The parts of the Lambda context Powertools reads."""

    function_name = "bench"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self):
        return 3_600_000


def make_handler(use_local_cache):
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
    config = IdempotencyConfig(
        event_key_jmespath="powertools_json(body).payment_id",
        payload_validation_jmespath="powertools_json(body).amount",
        use_local_cache=use_local_cache,
        local_cache_max_items=1024,
    )

    @idempotent(persistence_store=persistence, config=config)
    def handler(event, context):
        return {"statusCode": 201, "body": '{"status":"succeeded"}'}

    return handler


with open(EVENT_FILE) as f:
    TEMPLATE = json.load(f)


def event(payment_id):
    e = dict(TEMPLATE)
    e["body"] = json.dumps({"payment_id": payment_id, "amount": 1299, "currency": "EUR"})
    return e


context = Context()
plain, cached = make_handler(False), make_handler(True)
next_id = [0]


def fresh():
    next_id[0] += 1
    return plain(event(f"pay-{next_id[0]}"), context)


replayed, cached_event = event("pay-replayed"), event("pay-cached")
plain(replayed, context)
cached(cached_event, context)
cached(cached_event, context)

def one_request():
    # The floor: one bare GetItem through the same client, no idempotency.
    return client.get_item(TableName=table, Key={"id": {"S": "absent"}}, ConsistentRead=True)


cases = [
    ("sdk_request_floor", one_request),
    ("first_call", fresh),
    ("replay", lambda: plain(replayed, context)),
    ("replay_local_cache", lambda: cached(cached_event, context)),
]
for name, case in cases:
    for _ in range(min(CALLS, 20)):
        case()
    requests["count"] = 0
    started = time.perf_counter()
    for _ in range(CALLS):
        case()
    elapsed = time.perf_counter() - started
    print(json.dumps({
        "impl": "powertools",
        "case": name,
        "calls": CALLS,
        "ms_per_call": round(elapsed * 1000 / CALLS, 3),
        "requests_per_call": requests["count"] / CALLS,
    }))
