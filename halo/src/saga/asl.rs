//! Saga definitions in the Amazon States Language subset of Halo's
//! `load_saga`, run by the same durable executor as typed sagas.
//!
//! Supported: `StartAt`; `States` of `Type` `Task`, `Succeed` and `Fail`;
//! on a `Task`: `Resource` (a name given to [`AslRegistry`]; an ARN matches
//! by its last `:`-separated part), `Next` or `End: true`, `ResultPath`
//! (`$`, `$.a.b` or `null`; default `$`), `Retry` (`ErrorEquals`,
//! `MaxAttempts` (default 3), `IntervalSeconds` (default 1), `BackoffRate`
//! (default 2.0): exact delays, no jitter, each retrier counting its own
//! attempts) and `Catch` (`ErrorEquals`, `Next`, `ResultPath`).
//!
//! The states from `StartAt` along `Next` are the saga's steps; a `Catch`
//! leads to a compensation chain (tasks along `Next` to a `Fail`). When a
//! step fails, the first `Catch` whose `ErrorEquals` holds the error's code
//! (or `States.ALL`) runs its chain: every task of the chain is attempted
//! (retried by its `Retry`, else 5 times with backoff), and the saga ends
//! [`RolledBack`](super::SagaError::RolledBack) or
//! [`CompensationFailed`](super::SagaError::CompensationFailed). An error no
//! `Catch` matches ends it
//! [`Uncompensated`](super::SagaError::Uncompensated), as Step Functions
//! would fail the execution. The error reaches the chain as
//! `{"Error": code, "Cause": detail}` at the `Catch`'s `ResultPath`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::saga::{MemorySagaLog, Saga, asl::AslRegistry};
//! use serde_json::{Value, json};
//!
//! let definition = r#"{
//!   "StartAt": "Reserve",
//!   "States": {
//!     "Reserve": { "Type": "Task", "Resource": "Reserve", "ResultPath": "$.reservation", "End": true,
//!                  "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Failed" }] },
//!     "Failed": { "Type": "Fail" }
//!   }
//! }"#;
//! let registry = AslRegistry::new().task("Reserve", |_ctx, input: Value| async move {
//!     Ok::<_, halo::Error>(json!({ "seats": input["seats"] }))
//! });
//! let saga = Saga::from_asl(definition, &registry).unwrap().named("reserve");
//! let out = saga.run(&MemorySagaLog::new(), "r-1", json!({ "seats": 2 })).await.unwrap();
//! assert_eq!(out, json!({ "seats": 2, "reservation": { "seats": 2 } }));
//! # });
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::error::StepError;
use super::saga::{Catcher, DynStep, Merge, Node, Saga};
use super::step::{RetryRule, Step, StepCtx, StepOptions};
use crate::BoxFuture;
use crate::retry::Backoff;

/// The step functions an ASL definition's `Resource`s name.
#[derive(Default, Clone)]
pub struct AslRegistry {
    tasks: HashMap<String, Arc<dyn DynStep>>,
}

impl fmt::Debug for AslRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.tasks.keys().collect();
        names.sort();
        f.debug_struct("AslRegistry").field("tasks", &names).finish()
    }
}

struct TaskFn<F>(F);

impl<F, Fut, E> DynStep for TaskFn<F>
where
    F: Fn(StepCtx, Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, E>> + Send + 'static,
    E: crate::IntoError,
{
    fn run<'a>(&'a self, ctx: &'a StepCtx, input: Value) -> BoxFuture<'a, Result<Value, StepError>> {
        let future = (self.0)(ctx.clone(), input);
        Box::pin(async move { future.await.map_err(StepError::from_error) })
    }

    fn has_compensation(&self) -> bool {
        false
    }

    fn compensate<'a>(&'a self, _: &'a StepCtx, _: Value, _: Option<Value>) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async { Ok(()) })
    }
}

impl AslRegistry {
    /// An empty registry.
    pub fn new() -> AslRegistry {
        AslRegistry::default()
    }

    /// Registers a [`Step`] (e.g. a `#[saga_step]` fn) under `resource`: it
    /// gets the state document as its input and its output goes to the
    /// state's `ResultPath`. Its own compensation is not used: ASL states
    /// the compensation chain explicitly.
    pub fn step(mut self, resource: impl Into<String>, step: impl Step) -> AslRegistry {
        self.tasks.insert(resource.into(), Arc::new(step));
        self
    }

    /// Registers an async closure `(StepCtx, state) -> Result<Value, E>`
    /// under `resource`.
    pub fn task<F, Fut, E>(mut self, resource: impl Into<String>, f: F) -> AslRegistry
    where
        F: Fn(StepCtx, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, E>> + Send + 'static,
        E: crate::IntoError + 'static,
    {
        self.tasks.insert(resource.into(), Arc::new(TaskFn(f)));
        self
    }

    fn find(&self, resource: &str) -> Option<&Arc<dyn DynStep>> {
        self.tasks.get(resource).or_else(|| resource.rsplit(':').next().and_then(|short| self.tasks.get(short)))
    }
}

/// One problem in a definition, at its JSON path (`$.States.BookHotel.Next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AslIssue {
    /// Where, as a JSON path.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AslError {
    /// The problems, in document order as far as possible.
    pub issues: Vec<AslIssue>,
}

impl AslError {
    /// Whether some issue is at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.issues.iter().any(|i| i.path == path)
    }
}

impl fmt::Display for AslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid saga definition: ")?;
        for (n, issue) in self.issues.iter().enumerate() {
            if n > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", issue.path, issue.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AslError {}

#[derive(Default)]
struct Issues(Vec<AslIssue>);

impl Issues {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(AslIssue { path: path.into(), message: message.into() });
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Task,
    Succeed,
    Fail,
}

struct State {
    kind: Kind,
    resource: Option<String>,
    next: Option<String>,
    end: bool,
    result_path: Option<Vec<String>>,
    retry: Vec<RetryRule>,
    catch: Vec<Catcher>,
}

fn state_path(name: &str) -> String {
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

impl Saga<Value, Value> {
    /// Loads a saga from an ASL definition; see [the module](self) for the
    /// subset. The saga is named `asl` until [`named`](Saga::named).
    ///
    /// # Errors
    ///
    /// Every problem found, each with its JSON path: invalid JSON, a
    /// missing or unknown `StartAt` / `Next` target, an unregistered
    /// `Resource`, an unreachable state, a cycle, a task without `Next` or
    /// `End`, an unsupported `Type` or `ResultPath`.
    pub fn from_asl(json: &str, registry: &AslRegistry) -> Result<Saga<Value, Value>, AslError> {
        let mut issues = Issues::default();
        let doc: Value = match serde_json::from_str(json) {
            Ok(doc) => doc,
            Err(err) => return Err(AslError { issues: vec![AslIssue { path: "$".into(), message: err.to_string() }] }),
        };
        let start = doc.get("StartAt").and_then(Value::as_str);
        let Some(states_json) = doc.get("States").and_then(Value::as_object) else {
            issues.add("$.States", "missing `States` (an object of states)");
            return Err(AslError { issues: issues.0 });
        };
        let mut states: HashMap<&str, State> = HashMap::new();
        for (name, value) in states_json {
            if let Some(state) = parse_state(name, value, &mut issues) {
                states.insert(name, state);
            }
        }
        // Targets and resources.
        for (name, value) in states_json {
            let Some(state) = states.get(name.as_str()) else { continue };
            let path = state_path(name);
            if let Some(next) = &state.next
                && !states_json.contains_key(next)
            {
                issues.add(format!("{path}.Next"), format!("`Next` names the unknown state `{next}`"));
            }
            for (i, c) in state.catch.iter().enumerate() {
                if !states_json.contains_key(&c.chain[0]) {
                    issues.add(
                        format!("{path}.Catch[{i}].Next"),
                        format!("`Next` names the unknown state `{}`", c.chain[0]),
                    );
                }
            }
            if let Some(resource) = &state.resource
                && registry.find(resource).is_none()
            {
                issues.add(format!("{path}.Resource"), format!("the resource `{resource}` is not registered"));
            }
            let _ = value;
        }
        let start = match start {
            None => {
                issues.add("$.StartAt", "missing `StartAt`");
                return Err(AslError { issues: issues.0 });
            }
            Some(start) if !states_json.contains_key(start) => {
                issues.add("$.StartAt", format!("`StartAt` names the unknown state `{start}`"));
                return Err(AslError { issues: issues.0 });
            }
            Some(start) => start,
        };
        // Cycles along `Next` (a chain of `Next` that comes back).
        let mut reported: HashSet<String> = HashSet::new();
        for name in states_json.keys() {
            let mut seen = vec![name.as_str()];
            let mut at = name.as_str();
            while let Some(next) = states.get(at).and_then(|s| s.next.as_deref()) {
                if next == name {
                    if seen.iter().all(|s| !reported.contains(*s)) {
                        issues
                            .add(format!("{}.Next", state_path(at)), format!("cycle: {} -> {next}", seen.join(" -> ")));
                        reported.extend(seen.iter().map(|s| s.to_string()));
                    }
                    break;
                }
                if seen.contains(&next) || !states.contains_key(next) {
                    break;
                }
                seen.push(next);
                at = next;
            }
        }
        // Reachability from StartAt, through `Next` and `Catch`.
        let mut reachable = HashSet::from([start]);
        let mut todo = vec![start];
        while let Some(at) = todo.pop() {
            let Some(state) = states.get(at) else { continue };
            let targets = state.next.iter().map(String::as_str).chain(state.catch.iter().map(|c| c.chain[0].as_str()));
            for target in targets {
                if states_json.contains_key(target) && reachable.insert(target) {
                    todo.push(target);
                }
            }
        }
        for name in states_json.keys() {
            if !reachable.contains(name.as_str()) {
                issues.add(state_path(name), "unreachable from `StartAt`");
            }
        }
        if !issues.0.is_empty() {
            return Err(AslError { issues: issues.0 });
        }

        // The main path: the steps.
        let mut main = Vec::new();
        let mut at = start;
        loop {
            let state = &states[at];
            match state.kind {
                Kind::Succeed => break,
                Kind::Fail => {
                    issues.add(
                        state_path(at),
                        "the path from `StartAt` must end in `Succeed` or `End: true`, not `Fail`",
                    );
                    break;
                }
                Kind::Task => main.push(at),
            }
            match &state.next {
                Some(next) if !state.end => at = next,
                _ => break,
            }
        }
        let main_set: HashSet<&str> = main.iter().copied().collect();
        // The compensation chains.
        let mut chain_nodes = HashMap::new();
        let mut nodes = Vec::new();
        for name in &main {
            let state = &states[name];
            let mut catchers = Vec::new();
            for (i, catcher) in state.catch.iter().enumerate() {
                let mut chain = Vec::new();
                let mut at = catcher.chain[0].as_str();
                loop {
                    let chained = &states[at];
                    if main_set.contains(at) {
                        issues.add(
                            format!("{}.Catch[{i}].Next", state_path(name)),
                            format!("`{at}` is a step of the saga, not a compensation"),
                        );
                        break;
                    }
                    if chained.kind != Kind::Task {
                        break;
                    }
                    if !chained.catch.is_empty() {
                        issues.add(
                            format!("{}.Catch", state_path(at)),
                            "`Catch` is not supported on a compensation state (a failed compensation ends the saga CompensationFailed)",
                        );
                    }
                    if !chain_nodes.contains_key(at) {
                        chain_nodes.insert(at.to_owned(), node(at, chained, registry, true));
                    }
                    chain.push(at.to_owned());
                    match &chained.next {
                        Some(next) if !chained.end => at = next,
                        _ => break,
                    }
                }
                catchers.push(Catcher {
                    codes: catcher.codes.clone(),
                    result_path: catcher.result_path.clone(),
                    chain,
                });
            }
            let mut node = node(name, state, registry, false);
            node.catch = Some(catchers);
            nodes.push(node);
        }
        if !issues.0.is_empty() {
            return Err(AslError { issues: issues.0 });
        }
        Ok(Saga::from_parts(format!("asl:{start}"), nodes, chain_nodes))
    }
}

fn node(name: &str, state: &State, registry: &AslRegistry, compensation: bool) -> Node {
    let step = registry.find(state.resource.as_deref().unwrap_or_default()).cloned().unwrap_or_else(|| {
        // Checked above: every resource is registered.
        Arc::new(TaskFn(|_, _| async { Err::<Value, _>(crate::Error::internal("unregistered resource")) }))
    });
    let mut options = StepOptions::default();
    if compensation {
        if let Some(first) = state.retry.first() {
            options = options.compensation_retry(first.backoff);
        }
    } else {
        for rule in &state.retry {
            options = options.retry_rule(rule.clone());
        }
    }
    Node {
        name: name.to_owned(),
        input: None,
        merge: Merge::ResultPath(state.result_path.clone()),
        step,
        options,
        catch: None,
    }
}
