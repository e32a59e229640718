//! Phase 1: the JSON document into states, each checked on its own.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{AslError, AslIssue, Issues};
use crate::retry::Backoff;
use crate::saga::definition::Catcher;
use crate::saga::step::RetryRule;

/// A parsed definition: `StartAt` (if any), the states by name in
/// document order, and the issues found so far.
pub(super) struct Parsed {
    pub(super) start: Option<String>,
    pub(super) names: Vec<String>,
    pub(super) states: std::collections::HashMap<String, State>,
    pub(super) issues: Issues,
}

impl Parsed {
    pub(super) fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// Parses `json`; fails only when it is not JSON or has no `States`
/// object (every other problem is collected for the later phases).
pub(super) fn parse(json: &str) -> Result<Parsed, AslError> {
    let mut issues = Issues::default();
    let doc: Value = match serde_json::from_str(json) {
        Ok(doc) => doc,
        Err(err) => return Err(AslError { issues: vec![AslIssue { path: "$".into(), message: err.to_string() }] }),
    };
    let start = doc.get("StartAt").and_then(Value::as_str).map(str::to_owned);
    let Some(states_json) = doc.get("States").and_then(Value::as_object) else {
        issues.add("$.States", "missing `States` (an object of states)");
        return Err(AslError { issues: issues.0 });
    };
    let mut states = std::collections::HashMap::new();
    for (name, value) in states_json {
        if let Some(state) = parse_state(name, value, &mut issues) {
            states.insert(name.clone(), state);
        }
    }
    Ok(Parsed { start, names: states_json.keys().cloned().collect(), states, issues })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Task,
    Succeed,
    Fail,
}

pub(super) struct State {
    pub(super) kind: Kind,
    pub(super) resource: Option<String>,
    pub(super) next: Option<String>,
    pub(super) end: bool,
    pub(super) result_path: Option<Vec<String>>,
    pub(super) retry: Vec<RetryRule>,
    pub(super) catch: Vec<Catcher>,
}

pub(super) fn state_path(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("$.States.{name}")
    } else {
        format!("$.States[{}]", Value::String(name.to_owned()))
    }
}

/// `$`, `$.a.b` or `null` (absent: `$`).
fn result_path(value: Option<&Value>, path: &str, issues: &mut Issues) -> Option<Vec<String>> {
    match value {
        None => Some(Vec::new()),
        Some(Value::Null) => None,
        Some(Value::String(s)) if s == "$" => Some(Vec::new()),
        Some(Value::String(s)) => match s.strip_prefix("$.") {
            Some(rest) if rest.split('.').all(|p| !p.is_empty() && !p.contains(['[', ']', '*'])) => {
                Some(rest.split('.').map(str::to_owned).collect())
            }
            _ => {
                issues.add(path, format!("unsupported ResultPath `{s}` (use `$`, `$.field.sub` or null)"));
                None
            }
        },
        Some(_) => {
            issues.add(path, "ResultPath must be a string or null");
            None
        }
    }
}

fn error_equals(obj: &Map<String, Value>, path: &str, issues: &mut Issues) -> Vec<String> {
    match obj.get("ErrorEquals") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    issues.add(format!("{path}.ErrorEquals[{i}]"), "an error name must be a string");
                    None
                }
            })
            .collect(),
        _ => {
            issues.add(format!("{path}.ErrorEquals"), "missing `ErrorEquals` (a non-empty array of error names)");
            Vec::new()
        }
    }
}

fn number(obj: &Map<String, Value>, key: &str, default: f64, path: &str, issues: &mut Issues) -> f64 {
    match obj.get(key) {
        None => default,
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => n,
            _ => {
                issues.add(format!("{path}.{key}"), format!("`{key}` must be a non-negative number"));
                default
            }
        },
    }
}

fn parse_state(name: &str, value: &Value, issues: &mut Issues) -> Option<State> {
    let path = state_path(name);
    let Some(obj) = value.as_object() else {
        issues.add(path, "a state must be an object");
        return None;
    };
    let kind = match obj.get("Type").and_then(Value::as_str) {
        Some("Task") => Kind::Task,
        Some("Succeed") => Kind::Succeed,
        Some("Fail") => Kind::Fail,
        Some(other) => {
            issues.add(format!("{path}.Type"), format!("unsupported Type `{other}` (supported: Task, Succeed, Fail)"));
            return None;
        }
        None => {
            issues.add(format!("{path}.Type"), "missing `Type`");
            return None;
        }
    };
    let mut state =
        State { kind, resource: None, next: None, end: false, result_path: None, retry: Vec::new(), catch: Vec::new() };
    if kind != Kind::Task {
        return Some(state);
    }
    match obj.get("Resource").and_then(Value::as_str) {
        Some(r) => state.resource = Some(r.to_owned()),
        None => issues.add(format!("{path}.Resource"), "a Task needs a `Resource` (a registered name)"),
    }
    state.next = obj.get("Next").and_then(Value::as_str).map(str::to_owned);
    state.end = obj.get("End").and_then(Value::as_bool).unwrap_or(false);
    match (&state.next, state.end) {
        (None, false) => issues.add(path.clone(), "missing `Next` or `End: true`"),
        (Some(_), true) => issues.add(format!("{path}.End"), "a state has either `Next` or `End: true`, not both"),
        _ => {}
    }
    state.result_path = result_path(obj.get("ResultPath"), &format!("{path}.ResultPath"), issues);
    if let Some(retries) = obj.get("Retry") {
        let Some(retries) = retries.as_array() else {
            issues.add(format!("{path}.Retry"), "`Retry` must be an array");
            return Some(state);
        };
        for (i, retrier) in retries.iter().enumerate() {
            let rpath = format!("{path}.Retry[{i}]");
            let Some(r) = retrier.as_object() else {
                issues.add(rpath, "a retrier must be an object");
                continue;
            };
            let codes = error_equals(r, &rpath, issues);
            let max_attempts = number(r, "MaxAttempts", 3.0, &rpath, issues) as u32;
            let interval = number(r, "IntervalSeconds", 1.0, &rpath, issues);
            let rate = number(r, "BackoffRate", 2.0, &rpath, issues);
            let backoff = Backoff::new(max_attempts.saturating_add(1))
                .initial_delay(Duration::from_secs_f64(interval))
                .multiplier(rate)
                .max_delay(Duration::from_secs(3600))
                .without_jitter();
            state.retry.push(RetryRule { codes: Some(codes), backoff });
        }
    }
    if let Some(catchers) = obj.get("Catch") {
        let Some(catchers) = catchers.as_array() else {
            issues.add(format!("{path}.Catch"), "`Catch` must be an array");
            return Some(state);
        };
        for (i, catcher) in catchers.iter().enumerate() {
            let cpath = format!("{path}.Catch[{i}]");
            let Some(c) = catcher.as_object() else {
                issues.add(cpath, "a catcher must be an object");
                continue;
            };
            let codes = error_equals(c, &cpath, issues);
            let Some(next) = c.get("Next").and_then(Value::as_str) else {
                issues.add(format!("{cpath}.Next"), "a catcher needs `Next`");
                continue;
            };
            let result_path = result_path(c.get("ResultPath"), &format!("{cpath}.ResultPath"), issues);
            state.catch.push(Catcher { codes, result_path, chain: vec![next.to_owned()] });
        }
    }
    Some(state)
}
