//! The flag document: read, checked as Powertools' `SchemaValidator`
//! checks it, and compiled for evaluation.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Error as _, Visitor};
use serde_json::Value;

use super::condition::ContextTest;
use super::context::FlagContext;
use super::error::FlagsError;
use super::raw::Raw;
use super::time::{Schedule, Window, day_named, parse_hh_mm, parse_iso_datetime, zone_named};

/// Every action Powertools 3.37.0 defines, in its order.
const ACTIONS: &[&str] = &[
    "EQUALS",
    "NOT_EQUALS",
    "KEY_GREATER_THAN_VALUE",
    "KEY_GREATER_THAN_OR_EQUAL_VALUE",
    "KEY_LESS_THAN_VALUE",
    "KEY_LESS_THAN_OR_EQUAL_VALUE",
    "STARTSWITH",
    "ENDSWITH",
    "IN",
    "NOT_IN",
    "KEY_IN_VALUE",
    "KEY_NOT_IN_VALUE",
    "VALUE_IN_KEY",
    "VALUE_NOT_IN_KEY",
    "ALL_IN_VALUE",
    "ANY_IN_VALUE",
    "NONE_IN_VALUE",
    "SCHEDULE_BETWEEN_TIME_RANGE",
    "SCHEDULE_BETWEEN_DATETIME_RANGE",
    "SCHEDULE_BETWEEN_DAYS_OF_WEEK",
    "MODULO_RANGE",
];

/// A feature flag document in the schema of Powertools for AWS Lambda
/// (Python)'s feature flags, checked when it is loaded (see the
/// [module docs](super)).
///
/// Read it with [`from_json`](FlagDocument::from_json), or as any
/// configuration value through its `Deserialize` (an invalid document is
/// then a deserialization error with the same message), and evaluate it
/// through [`FeatureFlags`](super::FeatureFlags).
///
/// Rules are tried in the order of the document's text. A
/// `serde_json::Value` sorts an object's keys (unless serde_json's
/// `preserve_order` feature is on), so a document read from a `Value`
/// ([`from_value`](FlagDocument::from_value)) tries its rules in the order
/// of their names.
#[derive(Debug, Clone)]
pub struct FlagDocument {
    flags: Vec<Flag>,
    by_name: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct Flag {
    name: String,
    /// `default` (a boolean for a boolean flag).
    default: Value,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// `when_match` (a boolean for a boolean flag; `null` where a
    /// non-boolean flag's rule has none, as in Powertools).
    when_match: Value,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
enum Condition {
    Context { key: String, test: ContextTest },
    Schedule(Schedule),
}

/// The time read once per evaluation, on the first schedule condition.
pub(crate) struct Now<'a> {
    read: &'a dyn Fn() -> u64,
    ms: Option<u64>,
}

impl<'a> Now<'a> {
    pub(crate) fn new(read: &'a dyn Fn() -> u64) -> Now<'a> {
        Now { read, ms: None }
    }

    fn ms(&mut self) -> u64 {
        *self.ms.get_or_insert_with(self.read)
    }
}

impl FlagDocument {
    /// Reads and checks a document from its JSON text.
    ///
    /// Errors: text that is not JSON, and every document Powertools'
    /// schema validator refuses, with the flag, rule and condition named.
    pub fn from_json(text: &str) -> Result<FlagDocument, FlagsError> {
        let raw: Raw = serde_json::from_str(text).map_err(|err| {
            FlagsError::document(format!("not valid JSON (line {}, column {})", err.line(), err.column()))
        })?;
        FlagDocument::from_raw(&raw)
    }

    /// Reads and checks a document from a JSON value. Its rules are tried
    /// in the order the `Value` keeps their names: sorted, unless
    /// serde_json's `preserve_order` feature is on. Prefer
    /// [`from_json`](FlagDocument::from_json) on the text.
    pub fn from_value(value: Value) -> Result<FlagDocument, FlagsError> {
        let raw = Raw::deserialize(value).map_err(|err| FlagsError::document(err.to_string()))?;
        FlagDocument::from_raw(&raw)
    }

    pub(crate) fn from_raw(raw: &Raw) -> Result<FlagDocument, FlagsError> {
        let Raw::Object(entries) = raw else {
            return Err(FlagsError::document(format!("the document must be an object of flags, not {}", raw.kind())));
        };
        let mut flags = Vec::with_capacity(entries.len());
        let mut by_name = HashMap::with_capacity(entries.len());
        for (name, flag) in entries {
            by_name.insert(name.clone(), flags.len());
            flags.push(flag_of(name, flag)?);
        }
        Ok(FlagDocument { flags, by_name })
    }

    /// The flag's value for `context`: the `when_match` of its first
    /// matching rule, else its `default`; `None` when there is no such
    /// flag. Allocates nothing.
    pub(crate) fn value(&self, name: &str, context: &(impl FlagContext + ?Sized), now: &mut Now<'_>) -> Option<&Value> {
        let flag = self.flags.get(*self.by_name.get(name)?)?;
        Some(flag.value(context, now))
    }

    /// The names of the flags whose value for `context` is true in
    /// Python's sense, in the document's order.
    pub(crate) fn enabled(&self, context: &(impl FlagContext + ?Sized), now: &mut Now<'_>) -> Vec<&str> {
        self.flags.iter().filter(|flag| truthy(flag.value(context, now))).map(|flag| flag.name.as_str()).collect()
    }
}

impl Flag {
    fn value(&self, context: &(impl FlagContext + ?Sized), now: &mut Now<'_>) -> &Value {
        self.rules.iter().find(|rule| rule.matches(context, now)).map_or(&self.default, |rule| &rule.when_match)
    }
}

impl Rule {
    fn matches(&self, context: &(impl FlagContext + ?Sized), now: &mut Now<'_>) -> bool {
        self.conditions.iter().all(|condition| match condition {
            Condition::Context { key, test } => context.value(key).is_some_and(|value| test.matches(value)),
            Condition::Schedule(schedule) => schedule.matches(now.ms()),
        })
    }
}

/// Python's `bool(value)`.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// Read from a parameter, a document comes as its text (so its rules keep
/// the text's order); from any other deserializer, as a JSON value in the
/// order that deserializer gives.
impl<'de> Deserialize<'de> for FlagDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FlagDocument, D::Error> {
        deserializer.deserialize_newtype_struct(crate::params::RAW_TEXT_MARKER, DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = FlagDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a feature-flag document")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<FlagDocument, D::Error> {
        let raw = Raw::deserialize(deserializer)?;
        FlagDocument::from_raw(&raw).map_err(D::Error::custom)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<FlagDocument, E> {
        FlagDocument::from_json(text).map_err(E::custom)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<FlagDocument, A::Error> {
        self.visit_newtype_struct(de::value::MapAccessDeserializer::new(map))
    }
}

fn flag_of(name: &str, flag: &Raw) -> Result<Flag, FlagsError> {
    let err = |message: String| FlagsError::of_flag(name, message);
    if !matches!(flag, Raw::Object(entries) if !entries.is_empty()) {
        return Err(err(format!("a flag must be a non-empty object, not {}", flag.kind())));
    }
    let boolean = match flag.get("boolean_type") {
        None | Some(Raw::Null) => true,
        Some(Raw::Bool(b)) => *b,
        Some(other) => return Err(err(format!("'boolean_type' must be true or false, not {}", other.kind()))),
    };
    let default = match flag.get("default") {
        None | Some(Raw::Null) => return Err(err("'default' is required and must not be null".into())),
        Some(Raw::Bool(b)) => Value::Bool(*b),
        Some(other) if boolean => {
            return Err(err(format!(
                "'default' of a boolean flag must be true or false, not {} (set \"boolean_type\": false for other values)",
                other.kind()
            )));
        }
        Some(other) => other.to_value(),
    };
    let rules = match flag.get("rules") {
        None | Some(Raw::Null) => Vec::new(),
        Some(Raw::Object(rules)) => rules
            .iter()
            .map(|(rule_name, rule)| rule_of(rule_name, rule, boolean).map_err(|e| e.in_rule(rule_name)))
            .collect::<Result<Vec<_>, FlagsError>>()
            .map_err(|e| e.in_flag(name))?,
        Some(other) => return Err(err(format!("'rules' must be an object of rules, not {}", other.kind()))),
    };
    Ok(Flag { name: name.to_owned(), default, rules })
}

/// A rule's error names no flag yet: [`flag_of`] adds it.
fn rule_error(message: impl Into<String>) -> FlagsError {
    FlagsError::document(message)
}

fn rule_of(name: &str, rule: &Raw, boolean: bool) -> Result<Rule, FlagsError> {
    if !matches!(rule, Raw::Object(entries) if !entries.is_empty()) {
        return Err(rule_error(format!("a rule must be a non-empty object, not {}", rule.kind())));
    }
    if name.is_empty() {
        return Err(rule_error("a rule's name must not be empty"));
    }
    let when_match = match rule.get("when_match") {
        Some(Raw::Bool(b)) => Value::Bool(*b),
        other if boolean => {
            return Err(rule_error(format!(
                "'when_match' of a boolean flag's rule must be true or false, not {}",
                other.map_or("missing", Raw::kind)
            )));
        }
        Some(other) => other.to_value(),
        None => Value::Null,
    };
    let conditions = match rule.get("conditions") {
        Some(Raw::Array(conditions)) if !conditions.is_empty() => conditions,
        other => {
            return Err(rule_error(format!(
                "'conditions' must be a non-empty list, not {}",
                other.map_or("missing", |c| if matches!(c, Raw::Array(_)) { "an empty list" } else { c.kind() })
            )));
        }
    };
    let conditions = conditions
        .iter()
        .enumerate()
        .map(|(index, condition)| condition_of(condition).map_err(|e| e.in_condition(index)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule { when_match, conditions })
}

fn condition_of(condition: &Raw) -> Result<Condition, FlagsError> {
    if !matches!(condition, Raw::Object(entries) if !entries.is_empty()) {
        return Err(rule_error(format!("a condition must be a non-empty object, not {}", condition.kind())));
    }
    let action = match condition.get("action") {
        Some(Raw::String(action)) if ACTIONS.contains(&action.as_str()) => action.as_str(),
        other => {
            let found = match other {
                Some(Raw::String(action)) => format!("{action:?}"),
                Some(other) => other.kind().to_owned(),
                None => "missing".to_owned(),
            };
            return Err(rule_error(format!("'action' must be one of {}; found {found}", ACTIONS.join(", "))));
        }
    };
    let key = match condition.get("key") {
        Some(Raw::String(key)) if !key.is_empty() => key.as_str(),
        _ => return Err(rule_error("'key' must be a non-empty string")),
    };
    let time_key = match action {
        "SCHEDULE_BETWEEN_TIME_RANGE" => Some("CURRENT_TIME"),
        "SCHEDULE_BETWEEN_DATETIME_RANGE" => Some("CURRENT_DATETIME"),
        "SCHEDULE_BETWEEN_DAYS_OF_WEEK" => Some("CURRENT_DAY_OF_WEEK"),
        _ => None,
    };
    if let Some(expected) = time_key
        && key != expected
    {
        return Err(rule_error(format!("a {action} condition's 'key' must be {expected}, not {key:?}")));
    }
    let value = match condition.get("value") {
        None | Some(Raw::Null) => return Err(rule_error("'value' must not be null")),
        Some(value) => value,
    };
    let test =
        |test: fn(Value) -> ContextTest| Ok(Condition::Context { key: key.to_owned(), test: test(value.to_value()) });
    let list = |test: fn(Vec<Value>) -> ContextTest| match value {
        Raw::Array(items) => {
            Ok(Condition::Context { key: key.to_owned(), test: test(items.iter().map(Raw::to_value).collect()) })
        }
        other => Err(rule_error(format!("a {action} condition's 'value' must be a list, not {}", other.kind()))),
    };
    match action {
        "EQUALS" => test(ContextTest::Equals),
        "NOT_EQUALS" => test(ContextTest::NotEquals),
        "KEY_GREATER_THAN_VALUE" => test(ContextTest::Greater),
        "KEY_GREATER_THAN_OR_EQUAL_VALUE" => test(ContextTest::GreaterOrEqual),
        "KEY_LESS_THAN_VALUE" => test(ContextTest::Less),
        "KEY_LESS_THAN_OR_EQUAL_VALUE" => test(ContextTest::LessOrEqual),
        "STARTSWITH" => test(ContextTest::StartsWith),
        "ENDSWITH" => test(ContextTest::EndsWith),
        "IN" | "KEY_IN_VALUE" => test(ContextTest::In),
        "NOT_IN" | "KEY_NOT_IN_VALUE" => test(ContextTest::NotIn),
        "VALUE_IN_KEY" => test(ContextTest::ValueIn),
        "VALUE_NOT_IN_KEY" => test(ContextTest::ValueNotIn),
        "ALL_IN_VALUE" => list(ContextTest::AllIn),
        "ANY_IN_VALUE" => list(ContextTest::AnyIn),
        "NONE_IN_VALUE" => list(ContextTest::NoneIn),
        "MODULO_RANGE" => modulo_of(key, value),
        _ => schedule_of(action, value).map(Condition::Schedule),
    }
}

fn modulo_of(key: &str, value: &Raw) -> Result<Condition, FlagsError> {
    let shape = "a MODULO_RANGE condition's 'value' must be an object with 'BASE', 'START' and 'END'";
    if !matches!(value, Raw::Object(_)) {
        return Err(rule_error(shape));
    }
    let [base, start, end] = ["BASE", "START", "END"].map(|name| value.get(name).filter(|v| !matches!(v, Raw::Null)));
    let (Some(base), Some(start), Some(end)) = (base, start, end) else {
        return Err(rule_error(shape));
    };
    // Python's `isinstance(x, int)`: booleans are ints there.
    let integer = |raw: &Raw| match raw {
        Raw::Bool(b) => Some(Some(u64::from(*b))),
        Raw::Number(n) if !n.is_f64() => Some(n.as_u64()),
        _ => None,
    };
    let (Some(base), Some(start), Some(end)) = (integer(base), integer(start), integer(end)) else {
        return Err(rule_error("MODULO_RANGE's 'BASE', 'START' and 'END' must be integers"));
    };
    match (base, start, end) {
        (Some(base), Some(start), Some(end)) if start <= end && end < base => {
            Ok(Condition::Context { key: key.to_owned(), test: ContextTest::Modulo { base, start, end } })
        }
        _ => Err(rule_error("a MODULO_RANGE condition must satisfy 0 <= START <= END <= BASE - 1")),
    }
}

fn schedule_of(action: &str, value: &Raw) -> Result<Schedule, FlagsError> {
    if !matches!(value, Raw::Object(_)) {
        let keys = if action == "SCHEDULE_BETWEEN_DAYS_OF_WEEK" { "'DAYS'" } else { "'START' and 'END'" };
        return Err(rule_error(format!("a {action} condition's 'value' must be an object with {keys}")));
    }
    let window = match action {
        "SCHEDULE_BETWEEN_DAYS_OF_WEEK" => {
            let Some(Raw::Array(days)) = value.get("DAYS") else {
                return Err(rule_error("a SCHEDULE_BETWEEN_DAYS_OF_WEEK condition's 'DAYS' must be a list of days"));
            };
            let mut mask = 0;
            for day in days {
                match day {
                    Raw::String(name) if day_named(name).is_some() => mask |= day_named(name).unwrap_or(0),
                    _ => {
                        return Err(rule_error(
                            "each of 'DAYS' must be MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY or SUNDAY",
                        ));
                    }
                }
            }
            Window::Days(mask)
        }
        _ => {
            let (Some(start), Some(end)) = (text_of(value, "START"), text_of(value, "END")) else {
                return Err(rule_error(format!("a {action} condition's 'START' and 'END' must be strings")));
            };
            if action == "SCHEDULE_BETWEEN_TIME_RANGE" {
                let (Some(start), Some(end)) = (parse_hh_mm(start), parse_hh_mm(end)) else {
                    return Err(rule_error("'START' and 'END' must be times as HH:MM (24 hour clock)"));
                };
                Window::TimeOfDay { start, end }
            } else {
                let parse = |text: &str| {
                    parse_iso_datetime(text).ok_or_else(|| {
                        rule_error(format!(
                            "'START' and 'END' must be ISO 8601 date-times without an offset (the zone is 'TIMEZONE'); found {text:?}"
                        ))
                    })
                };
                Window::Datetime { start: parse(start)?, end: parse(end)? }
            }
        }
    };
    let zone = match value.get("TIMEZONE") {
        None | Some(Raw::Null) => "UTC",
        Some(Raw::String(name)) if name.is_empty() => "UTC",
        Some(Raw::String(name)) => name.as_str(),
        Some(other) => return Err(rule_error(format!("'TIMEZONE' must be a string, not {}", other.kind()))),
    };
    let Some(zone) = zone_named(zone) else {
        return Err(rule_error(format!("'TIMEZONE' must be an IANA time zone such as Europe/Paris; found {zone:?}")));
    };
    Ok(Schedule { zone, window })
}

/// `value[name]` as a string; missing is `""`, as in Powertools.
fn text_of<'r>(value: &'r Raw, name: &str) -> Option<&'r str> {
    match value.get(name) {
        None => Some(""),
        Some(Raw::String(text)) => Some(text),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value_of(document: &FlagDocument, name: &str, context: Value, now_ms: u64) -> Option<Value> {
        let read = move || now_ms;
        document.value(name, &context, &mut Now::new(&read)).cloned()
    }

    /// One flag `f` with one rule `r` holding `condition`.
    fn with_condition(condition: Value) -> Result<FlagDocument, FlagsError> {
        FlagDocument::from_json(
            &json!({"f": {"default": false, "rules": {"r": {"when_match": true, "conditions": [condition]}}}})
                .to_string(),
        )
    }

    #[track_caller]
    fn refused(document: Value, message: &str, flag: Option<&str>, rule: Option<&str>, condition: Option<usize>) {
        let err = FlagDocument::from_json(&document.to_string()).expect_err("an invalid document");
        assert_eq!((err.flag(), err.rule(), err.condition()), (flag, rule, condition), "{err}");
        assert!(err.to_string().contains(message), "{err}");
        if let Some(flag) = flag {
            assert!(err.to_string().contains(&format!("flag {flag:?}")), "{err}");
        }
        if let Some(rule) = rule {
            assert!(err.to_string().contains(&format!("rule {rule:?}")), "{err}");
        }
    }

    #[track_caller]
    fn condition_refused(condition: Value, message: &str) {
        refused(
            json!({"f": {"default": false, "rules": {"r": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}, condition]}}}}),
            message,
            Some("f"),
            Some("r"),
            Some(1),
        );
    }

    #[test]
    fn documents_and_flags_are_checked() {
        refused(json!([]), "must be an object of flags", None, None, None);
        refused(json!({"f": {}}), "non-empty object", Some("f"), None, None);
        refused(json!({"f": true}), "non-empty object", Some("f"), None, None);
        refused(json!({"f": {"rules": {}}}), "'default' is required", Some("f"), None, None);
        refused(json!({"f": {"default": null}}), "'default' is required", Some("f"), None, None);
        refused(json!({"f": {"default": "on"}}), "must be true or false", Some("f"), None, None);
        refused(json!({"f": {"default": 1, "boolean_type": "false"}}), "'boolean_type'", Some("f"), None, None);
        refused(json!({"f": {"default": true, "rules": []}}), "'rules' must be an object", Some("f"), None, None);
        let err = FlagDocument::from_json("{\"f\": ").unwrap_err();
        assert!(err.to_string().starts_with("not valid JSON (line 1"), "{err}");
        assert!(FlagDocument::from_json("{}").is_ok());
        assert!(FlagDocument::from_json(r#"{"f": {"default": true, "rules": null}}"#).is_ok());
        assert!(FlagDocument::from_json(r#"{"f": {"default": {"a": 1}, "boolean_type": false}}"#).is_ok());
    }

    #[test]
    fn rules_are_checked() {
        let flag = |rules: Value| json!({"f": {"default": false, "rules": rules}});
        refused(flag(json!({"r": {}})), "non-empty object", Some("f"), Some("r"), None);
        refused(flag(json!({"r": 1})), "non-empty object", Some("f"), Some("r"), None);
        let conditions = json!([{"action": "EQUALS", "key": "k", "value": 1}]);
        refused(
            flag(json!({"": {"when_match": true, "conditions": conditions}})),
            "name must not be empty",
            Some("f"),
            Some(""),
            None,
        );
        refused(flag(json!({"r": {"conditions": conditions}})), "'when_match'", Some("f"), Some("r"), None);
        refused(
            flag(json!({"r": {"when_match": 1, "conditions": conditions}})),
            "'when_match'",
            Some("f"),
            Some("r"),
            None,
        );
        refused(
            flag(json!({"r": {"when_match": true}})),
            "'conditions' must be a non-empty list",
            Some("f"),
            Some("r"),
            None,
        );
        refused(
            flag(json!({"r": {"when_match": true, "conditions": []}})),
            "an empty list",
            Some("f"),
            Some("r"),
            None,
        );
        refused(flag(json!({"r": {"when_match": true, "conditions": {}}})), "'conditions'", Some("f"), Some("r"), None);
        // A non-boolean flag's rule may have any when_match, or none.
        let document = json!({"f": {"default": 1, "boolean_type": false, "rules": {"r": {"conditions": conditions}}}});
        let document = FlagDocument::from_json(&document.to_string()).unwrap();
        assert_eq!(value_of(&document, "f", json!({"k": 1}), 0), Some(Value::Null));
    }

    #[test]
    fn conditions_are_checked() {
        condition_refused(json!({}), "non-empty object");
        condition_refused(json!("EQUALS"), "non-empty object");
        condition_refused(json!({"action": "EQUAL", "key": "k", "value": 1}), "'action' must be one of EQUALS");
        condition_refused(json!({"action": "equals", "key": "k", "value": 1}), "found \"equals\"");
        condition_refused(json!({"action": 1, "key": "k", "value": 1}), "'action'");
        condition_refused(json!({"action": "EQUALS", "key": "", "value": 1}), "'key' must be a non-empty string");
        condition_refused(json!({"action": "EQUALS", "key": 1, "value": 1}), "'key'");
        condition_refused(json!({"action": "EQUALS", "key": "k"}), "'value' must not be null");
        condition_refused(json!({"action": "EQUALS", "key": "k", "value": null}), "'value' must not be null");
        for action in ["ALL_IN_VALUE", "ANY_IN_VALUE", "NONE_IN_VALUE"] {
            condition_refused(json!({"action": action, "key": "k", "value": "a"}), "must be a list");
        }
    }

    #[test]
    fn modulo_values_are_checked() {
        let modulo = |value: Value| json!({"action": "MODULO_RANGE", "key": "k", "value": value});
        condition_refused(modulo(json!([1, 0, 0])), "'BASE', 'START' and 'END'");
        condition_refused(modulo(json!({"BASE": 10, "START": 0})), "'BASE', 'START' and 'END'");
        condition_refused(modulo(json!({"BASE": 10, "START": 0, "END": null})), "'BASE', 'START' and 'END'");
        condition_refused(modulo(json!({"BASE": 10.0, "START": 0, "END": 1})), "must be integers");
        condition_refused(modulo(json!({"BASE": "10", "START": 0, "END": 1})), "must be integers");
        condition_refused(modulo(json!({"BASE": 10, "START": 5, "END": 4})), "0 <= START <= END <= BASE - 1");
        condition_refused(modulo(json!({"BASE": 10, "START": 0, "END": 10})), "0 <= START <= END <= BASE - 1");
        condition_refused(modulo(json!({"BASE": 10, "START": -1, "END": 1})), "0 <= START <= END <= BASE - 1");
        condition_refused(modulo(json!({"BASE": 0, "START": 0, "END": 0})), "0 <= START <= END <= BASE - 1");
        // Booleans are Python ints.
        assert!(with_condition(modulo(json!({"BASE": 2, "START": false, "END": true}))).is_ok());
    }

    #[test]
    fn schedules_are_checked() {
        let schedule = |action: &str, key: &str, value: Value| json!({"action": action, "key": key, "value": value});
        let time = |value: Value| schedule("SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", value);
        let datetime = |value: Value| schedule("SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", value);
        let days = |value: Value| schedule("SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", value);
        condition_refused(
            schedule("SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_DATETIME", json!({"START": "09:00", "END": "17:00"})),
            "'key' must be CURRENT_TIME",
        );
        condition_refused(time(json!("09:00-17:00")), "must be an object with 'START' and 'END'");
        condition_refused(time(json!({"START": "9:00", "END": "17:00"})), "HH:MM");
        condition_refused(time(json!({"START": "09:00"})), "HH:MM");
        condition_refused(time(json!({"START": 9, "END": "17:00"})), "must be strings");
        condition_refused(
            time(json!({"START": "09:00", "END": "17:00", "TIMEZONE": "Europe/Nowhere"})),
            "IANA time zone",
        );
        condition_refused(
            time(json!({"START": "09:00", "END": "17:00", "TIMEZONE": "europe/paris"})),
            "IANA time zone",
        );
        condition_refused(
            time(json!({"START": "09:00", "END": "17:00", "TIMEZONE": 1})),
            "'TIMEZONE' must be a string",
        );
        condition_refused(datetime(json!({"START": "2024-01-01T00:00:00Z", "END": "2024-02-01"})), "without an offset");
        condition_refused(datetime(json!({"START": "2024-01-01", "END": "2024-02-30"})), "without an offset");
        condition_refused(
            schedule(
                "SCHEDULE_BETWEEN_DATETIME_RANGE",
                "CURRENT_TIME",
                json!({"START": "2024-01-01", "END": "2024-02-01"}),
            ),
            "CURRENT_DATETIME",
        );
        condition_refused(days(json!({"DAYS": "MONDAY"})), "'DAYS' must be a list");
        condition_refused(days(json!({"DAYS": ["monday"]})), "each of 'DAYS'");
        condition_refused(days(json!(["MONDAY"])), "must be an object with 'DAYS'");
        condition_refused(
            schedule("SCHEDULE_BETWEEN_DAYS_OF_WEEK", "DAY", json!({"DAYS": ["MONDAY"]})),
            "CURRENT_DAY_OF_WEEK",
        );
        assert!(with_condition(time(json!({"START": "22:00", "END": "06:00", "TIMEZONE": ""}))).is_ok());
        assert!(with_condition(days(json!({"DAYS": [], "TIMEZONE": null}))).is_ok());
    }

    #[test]
    fn rules_are_tried_in_document_order_and_the_first_match_wins() {
        let document = FlagDocument::from_json(
            r#"{"tier": {"default": "none", "boolean_type": false, "rules": {
                "z gold": {"when_match": "gold", "conditions": [{"action": "KEY_GREATER_THAN_VALUE", "key": "spend", "value": 1000}]},
                "a silver": {"when_match": "silver", "conditions": [
                    {"action": "KEY_GREATER_THAN_VALUE", "key": "spend", "value": 100},
                    {"action": "EQUALS", "key": "country", "value": "FR"}
                ]}
            }}}"#,
        )
        .unwrap();
        assert_eq!(value_of(&document, "tier", json!({"spend": 5000, "country": "FR"}), 0), Some(json!("gold")));
        assert_eq!(value_of(&document, "tier", json!({"spend": 500, "country": "FR"}), 0), Some(json!("silver")));
        assert_eq!(value_of(&document, "tier", json!({"spend": 500, "country": "DE"}), 0), Some(json!("none")));
        assert_eq!(value_of(&document, "tier", json!({"country": "FR"}), 0), Some(json!("none")), "a missing key");
        assert_eq!(value_of(&document, "nope", json!({}), 0), None);
    }

    #[test]
    fn a_missing_key_never_matches_even_a_negative_action() {
        let document = with_condition(json!({"action": "NOT_EQUALS", "key": "k", "value": 1})).unwrap();
        assert_eq!(value_of(&document, "f", json!({}), 0), Some(json!(false)));
        assert_eq!(value_of(&document, "f", json!({"k": null}), 0), Some(json!(true)));
    }

    #[test]
    fn enabled_features_are_the_truthy_values_in_document_order() {
        let document = FlagDocument::from_json(
            r#"{"b": {"default": true}, "a": {"default": false},
                "n": {"default": "", "boolean_type": false, "rules": {"r": {"when_match": [1], "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}},
                "z": {"default": {"x": 1}, "boolean_type": false}}"#,
        )
        .unwrap();
        let read = || 0;
        assert_eq!(document.enabled(&json!({"k": 1}), &mut Now::new(&read)), ["b", "n", "z"]);
        assert_eq!(document.enabled(&json!({}), &mut Now::new(&read)), ["b", "z"]);
    }

    #[test]
    fn deserialize_keeps_the_text_order_and_reports_the_location() {
        let document: FlagDocument = serde_json::from_str(
            r#"{"f": {"default": 0, "boolean_type": false, "rules": {
                "b": {"when_match": 1, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]},
                "a": {"when_match": 2, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}"#,
        )
        .unwrap();
        assert_eq!(value_of(&document, "f", json!({"k": 1}), 0), Some(json!(1)));
        let err = serde_json::from_str::<FlagDocument>(r#"{"f": {"default": 1}}"#).unwrap_err();
        assert!(err.to_string().starts_with("flag \"f\": 'default' of a boolean flag"), "{err}");
    }

    /// Rules named against the text's order: the first in the text wins.
    const ORDERED: &str = r#"{"f": {"default": false, "rules": {
        "z first": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]},
        "a second": {"when_match": false, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}"#;

    #[tokio::test]
    async fn a_document_read_from_a_parameter_keeps_the_order_of_its_rules() {
        use crate::params::{EnvSource, Params};

        #[derive(serde::Deserialize)]
        struct Settings {
            flags: FlagDocument,
        }
        let params = Params::new(EnvSource::from_vars([("HALO_PARAM_FLAGS", ORDERED)]));
        let single = params.load_one::<FlagDocument>("flags").await.unwrap();
        assert_eq!(value_of(&single.get(), "f", json!({"k": 1}), 0), Some(json!(true)));
        let got: FlagDocument = params.get("flags").await.unwrap();
        assert_eq!(value_of(&got, "f", json!({"k": 1}), 0), Some(json!(true)));
        let path = params.load::<Settings>("/svc").await.unwrap();
        assert_eq!(value_of(&path.get().flags, "f", json!({"k": 1}), 0), Some(json!(true)));
        // A `Value` has lost the order: the rule named first wins.
        let sorted = FlagDocument::from_value(serde_json::from_str(ORDERED).unwrap()).unwrap();
        assert_eq!(value_of(&sorted, "f", json!({"k": 1}), 0), Some(json!(false)));
        // An invalid document read from a parameter names the flag and rule.
        let params = Params::new(EnvSource::from_vars([("HALO_PARAM_FLAGS", ORDERED.replace("EQUALS", "NEAR"))]));
        let err = params.load_one::<FlagDocument>("flags").await.unwrap_err();
        assert!(err.to_string().contains(r#"flag "f", rule "z first", conditions[0]"#), "{err}");
    }
}
