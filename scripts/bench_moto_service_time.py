"""moto's own service time for the DynamoDB requests of one idempotent call.

Sends, over one keep-alive HTTP connection with no SDK in between, the same
requests halo and Powertools for Python make per call (same operations,
condition and update expressions, attributes and sizes; fresh keys for
first calls, a held COMPLETED key for replays) and prints one JSON line per
case with the milliseconds moto took (median of interleaved rounds). What an implementation measures
above this is its own client-side time; no client making these requests
can be faster than this against the same server.

Usage: bench_moto_service_time.py ENDPOINT CALLS
"""

import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid

ENDPOINT, CALLS = sys.argv[1], int(sys.argv[2])
url = urllib.parse.urlparse(ENDPOINT)
connection = http.client.HTTPConnection(url.hostname, url.port)
HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def send(operation, body):
    headers = dict(HEADERS, **{"X-Amz-Target": "DynamoDB_20120810." + operation})
    connection.request("POST", "/", json.dumps(body), headers)
    response = connection.getresponse()
    response.read()
    return response.status


table = f"bench-moto-{uuid.uuid4().hex[:8]}"
send("CreateTable", {
    "TableName": table,
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
})

FAR_S, FAR_MS, NOW_S, NOW_MS = "1796158333", "1796158333180", "1764600000", "1764600000000"
VALIDATION = {"S": "a0833c8a1817526ac555f8d67727caf6"}
RESPONSE = {"S": json.dumps({"statusCode": 201, "body": '{"status":"succeeded"}'})}
next_id = [0]


def fresh_key():
    next_id[0] += 1
    return {"S": f"charge#{next_id[0]:032x}"}


def in_progress(key):
    return {
        "id": key, "expiration": {"N": FAR_S}, "status": {"S": "INPROGRESS"},
        "in_progress_expiration": {"N": FAR_MS}, "validation": VALIDATION,
    }


HALO_CLAIM = {
    "ConditionExpression": "attribute_not_exists(#id) OR #expiry < :now OR "
    "(#status = :inprogress AND #in_progress_expiry < :now_ms)",
    "ExpressionAttributeNames": {
        "#id": "id", "#expiry": "expiration", "#status": "status", "#in_progress_expiry": "in_progress_expiration",
    },
    "ExpressionAttributeValues": {":now": {"N": NOW_S}, ":now_ms": {"N": NOW_MS}, ":inprogress": {"S": "INPROGRESS"}},
    "ReturnValues": "ALL_OLD",
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
}
POWERTOOLS_CLAIM = {
    "ConditionExpression": "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
    "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)",
    "ExpressionAttributeNames": {
        "#id": "id", "#expiry": "expiration", "#in_progress_expiry": "in_progress_expiration", "#status": "status",
    },
    "ExpressionAttributeValues": {
        ":now": {"N": NOW_S}, ":now_in_millis": {"N": NOW_MS}, ":inprogress": {"S": "INPROGRESS"},
    },
    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
}


def claim(shape, key):
    return send("PutItem", dict(shape, TableName=table, Item=in_progress(key)))


def halo_first_call():
    key = fresh_key()
    claim(HALO_CLAIM, key)
    item = {"id": key, "status": {"S": "COMPLETED"}, "expiration": {"N": FAR_S}, "data": RESPONSE,
            "validation": VALIDATION}
    send("PutItem", {"TableName": table, "Item": item})


def powertools_first_call():
    key = fresh_key()
    claim(POWERTOOLS_CLAIM, key)
    send("UpdateItem", {
        "TableName": table,
        "Key": {"id": key},
        "UpdateExpression": "SET #response_data = :response_data, #expiry = :expiry, #status = :status, "
        "#validation_key = :validation_key",
        "ExpressionAttributeNames": {
            "#expiry": "expiration", "#response_data": "data", "#status": "status", "#validation_key": "validation",
        },
        "ExpressionAttributeValues": {
            ":expiry": {"N": FAR_S}, ":response_data": RESPONSE, ":status": {"S": "COMPLETED"},
            ":validation_key": VALIDATION,
        },
    })


HELD = {"S": "charge#held"}
send("PutItem", {"TableName": table, "Item": {
    "id": HELD, "status": {"S": "COMPLETED"}, "expiration": {"N": FAR_S}, "data": RESPONSE, "validation": VALIDATION,
}})

cases = [
    ("halo", "sdk_request_floor", lambda: send("GetItem", {
        "TableName": table, "Key": {"id": {"S": "absent"}}, "ConsistentRead": True,
    })),
    ("halo", "first_call", halo_first_call),
    ("powertools", "first_call", powertools_first_call),
    ("halo", "replay", lambda: claim(HALO_CLAIM, HELD)),
    ("powertools", "replay", lambda: claim(POWERTOOLS_CLAIM, HELD)),
]
# Interleaved rounds of 50 calls per case, median of the rounds: moto's
# speed drifts on a shared machine, and every case sees the same drift.
ROUND = 50
samples = {(implementation, name): [] for implementation, name, _ in cases}
for _, _, case in cases:
    for _ in range(min(CALLS, 20)):
        case()
for _ in range(max(1, CALLS // ROUND)):
    for implementation, name, case in cases:
        started = time.perf_counter()
        for _ in range(ROUND):
            case()
        samples[(implementation, name)].append((time.perf_counter() - started) * 1000 / ROUND)
for (implementation, name), times in samples.items():
    print(json.dumps({
        "impl": "moto:" + implementation,
        "case": name,
        "calls": len(times) * ROUND,
        "ms_per_call": round(statistics.median(times), 3),
    }))
