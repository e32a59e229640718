"""The oracle of halo/tests/feature_flags_powertools.rs: generates feature
flag documents and contexts and evaluates them with Powertools for AWS
Lambda (Python)'s own FeatureFlags, printing one JSON line per case:

    {"document": "<json text>", "context": {...}, "flag": "...", "default": ...,
     "now_ms": ..., "expected_value": ..., "expected_enabled": bool(value),
     "default_enabled": bool(default), "expected_enabled_features": [...]}

or, for a document Powertools refuses, "invalid": true and its "error"
instead of the expected values.

Usage: feature_flags_oracle.py --seed N --cases K

The clock of the time conditions is pinned to `now_ms` by replacing the
`datetime` Powertools' comparators read. Run with TZ=UTC.
"""

import argparse
import json
import os
import random
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone

os.environ["TZ"] = "UTC"
time.tzset()
warnings.simplefilter("ignore")

try:
    from aws_lambda_powertools.utilities.feature_flags import FeatureFlags, comparators
    from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
    from aws_lambda_powertools.utilities.feature_flags.exceptions import SchemaValidationError
except ImportError as err:  # pragma: no cover
    print(f"aws-lambda-powertools is not installed: {err}", file=sys.stderr)
    sys.exit(3)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PINNED = {"now": EPOCH}


class PinnedDatetime(datetime):
    """`datetime` whose `now` is the pinned instant."""

    @classmethod
    def now(cls, tz=None):
        return PINNED["now"].astimezone(tz)


comparators.datetime = PinnedDatetime


class DocumentStore(StoreProvider):
    def __init__(self, document):
        self.document = document

    @property
    def get_raw_configuration(self):
        return self.document

    def get_configuration(self):
        return self.document


ACTIONS = [
    "EQUALS", "NOT_EQUALS", "KEY_GREATER_THAN_VALUE", "KEY_GREATER_THAN_OR_EQUAL_VALUE",
    "KEY_LESS_THAN_VALUE", "KEY_LESS_THAN_OR_EQUAL_VALUE", "STARTSWITH", "ENDSWITH", "IN", "NOT_IN",
    "KEY_IN_VALUE", "KEY_NOT_IN_VALUE", "VALUE_IN_KEY", "VALUE_NOT_IN_KEY", "ALL_IN_VALUE",
    "ANY_IN_VALUE", "NONE_IN_VALUE", "MODULO_RANGE", "SCHEDULE_BETWEEN_TIME_RANGE",
    "SCHEDULE_BETWEEN_DATETIME_RANGE", "SCHEDULE_BETWEEN_DAYS_OF_WEEK",
]
TIME_ACTIONS = {
    "SCHEDULE_BETWEEN_TIME_RANGE": "CURRENT_TIME",
    "SCHEDULE_BETWEEN_DATETIME_RANGE": "CURRENT_DATETIME",
    "SCHEDULE_BETWEEN_DAYS_OF_WEEK": "CURRENT_DAY_OF_WEEK",
}
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
ZONES = [
    None, "", "UTC", "Europe/Paris", "Europe/Copenhagen", "America/New_York", "America/Los_Angeles",
    "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "Australia/Lord_Howe",
    "Pacific/Auckland", "America/Sao_Paulo", "Africa/Casablanca", "America/St_Johns",
]
KEYS = ["tier", "age", "groups", "tenant", "user_id", "name", "score"]
SCALARS = [
    "gold", "premium", "prem", "ium", "", "a", "abc", "Gold", "1", "10", "b", "é",
    0, 1, -1, 2, 7, 10, 42, 100, 12345, -37, 9007199254740993,
    0.0, 1.0, 1.5, -2.5, 10.0, 3.25, 1e20, -0.0,
    True, False, None,
]


def scalar(rng):
    return rng.choice(SCALARS)


def value(rng, depth=0):
    """A JSON value of any type."""
    roll = rng.random()
    if depth < 2 and roll < 0.2:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 2 and roll < 0.27:
        return {rng.choice(["a", "gold", "tier", "1"]): value(rng, depth + 1) for _ in range(rng.randint(0, 2))}
    return scalar(rng)


def near(rng, v):
    """A context value related to the condition value `v`, so conditions match often."""
    roll = rng.random()
    if roll < 0.35:
        return v
    if isinstance(v, list) and v and roll < 0.6:
        return rng.choice(v)
    if isinstance(v, list) and roll < 0.75:
        return [rng.choice(v) if v and rng.random() < 0.7 else scalar(rng) for _ in range(rng.randint(0, 3))]
    if isinstance(v, str) and v and roll < 0.6:
        i = rng.randint(0, len(v))
        return rng.choice([v[:i], v[i:], v + "x", "x" + v])
    if isinstance(v, dict) and v and roll < 0.6:
        return rng.choice(list(v))
    if isinstance(v, (int, float)) and not isinstance(v, bool) and roll < 0.7:
        return rng.choice([v + 1, v - 1, v * 1.0, v + 0.5, bool(v)])
    return value(rng)


def hh_mm(rng):
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"


def iso(rng, dt):
    """`dt` written in one of the ISO forms fromisoformat reads."""
    form = rng.randint(0, 8)
    if form == 0:
        return dt.strftime("%Y-%m-%d")
    if form == 1:
        return dt.strftime("%Y-%m-%dT%H:%M:%S")
    if form == 2:
        return dt.strftime("%Y-%m-%d %H:%M")
    if form == 3:
        return dt.strftime("%Y%m%dT%H%M%S")
    if form == 4:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}"[: rng.randint(1, 6)]
    if form == 5:
        year, week, day = dt.isocalendar()
        return f"{year:04d}-W{week:02d}-{day}"
    if form == 6:
        return dt.strftime("%Y-%m-%dT%H")
    if form == 7:
        return dt.strftime("%Y-%m-%dT%H:%M:%S,%f")
    return dt.strftime("%Y-%m-%dT%H:%M")


def schedule_value(rng, action, now):
    if action == "SCHEDULE_BETWEEN_TIME_RANGE":
        v = {"START": hh_mm(rng), "END": hh_mm(rng)}
    elif action == "SCHEDULE_BETWEEN_DATETIME_RANGE":
        local = now.replace(tzinfo=None)
        start = local + timedelta(minutes=rng.randint(-3 * 24 * 60, 24 * 60), microseconds=rng.randint(0, 999999))
        end = start + timedelta(minutes=rng.randint(-60, 4 * 24 * 60))
        v = {"START": iso(rng, start), "END": iso(rng, end)}
    else:
        v = {"DAYS": rng.sample(DAYS, rng.randint(0, 7))}
    zone = rng.choice(ZONES)
    if zone is not None or rng.random() < 0.5:
        v["TIMEZONE"] = zone
    return v


def condition(rng, now):
    action = rng.choice(ACTIONS)
    if action in TIME_ACTIONS:
        return {"action": action, "key": TIME_ACTIONS[action], "value": schedule_value(rng, action, now)}
    key = rng.choice(KEYS)
    if action == "MODULO_RANGE":
        base = rng.choice([1, 2, 3, 10, 100, True])
        start = rng.randint(0, int(base) - 1)
        v = {"BASE": base, "START": start, "END": rng.randint(start, int(base) - 1)}
    elif action in ("ALL_IN_VALUE", "ANY_IN_VALUE", "NONE_IN_VALUE"):
        v = [value(rng) for _ in range(rng.randint(0, 4))]
    else:
        v = value(rng)
        while v is None:
            v = value(rng)
    return {"action": action, "key": key, "value": v}


def document(rng, now):
    flags = {}
    for n in range(rng.randint(1, 4)):
        boolean = rng.random() < 0.6
        flag = {"default": rng.choice([True, False]) if boolean else value(rng)}
        while flag["default"] is None:
            flag["default"] = value(rng)
        if not boolean:
            flag["boolean_type"] = False
        elif rng.random() < 0.3:
            flag["boolean_type"] = True
        if rng.random() < 0.85:
            rules = {}
            for r in range(rng.randint(0, 3)):
                rule = {"conditions": [condition(rng, now) for _ in range(rng.randint(1, 3))]}
                if boolean:
                    rule["when_match"] = rng.choice([True, False])
                elif rng.random() < 0.9:
                    rule["when_match"] = value(rng)
                rules[rng.choice(["z", "m", "a", "rule "]) + str(r)] = rule
            flag["rules"] = rules
        flags[f"flag_{n}"] = flag
    return flags


def mutate(rng, doc):
    """Makes the document invalid for Powertools' validator (most of the time)."""
    name = rng.choice(list(doc))
    flag = doc[name]
    rules = flag.get("rules") or {}
    roll = rng.randint(0, 17)
    if roll == 0:
        flag.pop("default")
    elif roll == 1:
        flag["default"] = None
    elif roll == 2:
        flag["boolean_type"] = True
        flag["default"] = rng.choice(["yes", 1, [True]])
    elif roll == 3:
        doc[name] = rng.choice([{}, [], "on", 1, True])
    elif roll == 4:
        flag["rules"] = rng.choice([["a"], "rules", 1, True])
    elif roll == 5 or not rules:
        flag["rules"] = {rng.choice(["", "r"]): rng.choice([{}, [], "r", {"when_match": True}, {"when_match": True, "conditions": []}])}
    else:
        rule = rules[rng.choice(list(rules))]
        c = rule["conditions"][rng.randrange(len(rule["conditions"]))]
        if roll == 6:
            rule["when_match"] = rng.choice(["yes", None, 0]) if flag.get("boolean_type", True) else rule.get("when_match")
            if not flag.get("boolean_type", True):
                rule["conditions"] = rng.choice([[], {}, None, "c"])
        elif roll == 7:
            c["action"] = rng.choice(["EQUAL", "equals", "", 1, "MODULO"])
        elif roll == 8:
            c["key"] = rng.choice(["", 1, None, "CURRENT_TIME"])
            if c["key"] == "CURRENT_TIME":
                c["action"] = rng.choice(["SCHEDULE_BETWEEN_DATETIME_RANGE", "SCHEDULE_BETWEEN_DAYS_OF_WEEK"])
        elif roll == 9:
            c["value"] = None
        elif roll == 10:
            c.pop("value")
        elif roll == 11:
            c["action"] = "MODULO_RANGE"
            c["value"] = rng.choice([
                {"BASE": 10, "START": 5, "END": 4}, {"BASE": 10, "START": 0}, {"BASE": 10.0, "START": 0, "END": 1},
                {"BASE": 10, "START": -1, "END": 1}, {"BASE": 0, "START": 0, "END": 0}, [10, 0, 1], "10",
                {"BASE": 3, "START": 0, "END": 3}, {"BASE": "3", "START": 0, "END": 1},
            ])
        elif roll == 12:
            c["action"] = rng.choice(["ALL_IN_VALUE", "ANY_IN_VALUE", "NONE_IN_VALUE"])
            c["value"] = rng.choice(["a", 1, {"a": 1}, True])
        elif roll == 13:
            c["action"], c["key"] = "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME"
            c["value"] = rng.choice([
                {"START": "9:00", "END": "17:00"}, {"START": "24:00", "END": "01:00"}, {"START": "09:00"},
                {"START": 9, "END": "17:00"}, {"START": "09:00", "END": "17:60"}, "09:00",
                {"START": "09:00", "END": "17:00", "TIMEZONE": rng.choice(["Mars/Base", "europe/paris", 1, True])},
                {"START": "09:00:00", "END": "17:00"}, {"START": "09:00", "END": None},
            ])
        elif roll == 14:
            c["action"], c["key"] = "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME"
            c["value"] = {
                "START": rng.choice([
                    "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+01:00", "2024-02-30", "2024-1-01", "2024-01-01T",
                    "20240101T1230451", "2024-01-01T12:30:45.", "2024-01-01T24:00", "2024-W53-1", "0000-01-01",
                    "2024-01-01T12:3", "tomorrow", "", "2024-01-01T12:30:45.123abc", "2024-01-01T12:30:00-05:00",
                ]),
                "END": "2030-01-01",
            }
        elif roll == 15:
            c["action"], c["key"] = "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK"
            c["value"] = rng.choice([{"DAYS": "MONDAY"}, {"DAYS": ["monday"]}, {"DAYS": [1]}, ["MONDAY"], {"TIMEZONE": "UTC"}])
        elif roll == 16:
            rule["conditions"][rng.randrange(len(rule["conditions"]))] = rng.choice([{}, [], "EQUALS", None])
        else:
            c["action"] = rng.choice(list(TIME_ACTIONS))
            c["key"] = "tier"


def truthy(v):
    return bool(v)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--cases", type=int, required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    for _ in range(args.cases):
        # 2000-01-01 .. 2036-01-01, whole milliseconds.
        now_ms = rng.randint(946_684_800_000, 2_082_758_400_000)
        now = EPOCH + timedelta(milliseconds=now_ms)
        PINNED["now"] = now
        doc = document(rng, now)
        if rng.random() < 0.15:
            mutate(rng, doc)
        text = json.dumps(doc)
        context = {}
        for key in KEYS:
            if rng.random() < 0.75:
                context[key] = value(rng)
        # Context values close to the conditions' values.
        for flag in doc.values():
            if isinstance(flag, dict) and isinstance(flag.get("rules"), dict):
                for rule in flag["rules"].values():
                    if isinstance(rule, dict) and isinstance(rule.get("conditions"), list):
                        for c in rule["conditions"]:
                            if isinstance(c, dict) and c.get("key") in KEYS and rng.random() < 0.6:
                                if rng.random() < 0.1:
                                    context.pop(c["key"], None)
                                else:
                                    context[c["key"]] = near(rng, c.get("value"))
        names = list(doc) if isinstance(doc, dict) else []
        flag = rng.choice(names) if names and rng.random() < 0.9 else "missing_flag"
        default = rng.choice([True, False, 0, "fallback", None, [1], {"a": 1}])
        case = {"document": text, "context": context, "flag": flag, "default": default, "now_ms": now_ms}
        flags = FeatureFlags(store=DocumentStore(json.loads(text)))
        try:
            flags.get_configuration()
        except Exception as err:  # SchemaValidationError, or a TypeError from the validator
            case["invalid"] = True
            case["error"] = f"{type(err).__name__}: {err}"
            out.write(json.dumps(case) + "\n")
            continue
        case["expected_value"] = flags.evaluate(name=flag, context=context, default=default)
        # What an `if` on those values decides, in Python's own terms.
        case["expected_enabled"] = bool(case["expected_value"])
        case["default_enabled"] = bool(default)
        case["expected_enabled_features"] = flags.get_enabled_features(context=context)
        out.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()
