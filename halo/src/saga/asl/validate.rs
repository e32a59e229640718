//! Phase 2: the definition as a whole: every `Next` and `Catch` target
//! exists, every `Resource` is registered, `StartAt` names a state, no
//! chain of `Next` comes back, every state is reachable.

use std::collections::HashSet;

use super::error::{AslError, Issues};
use super::parse::{Parsed, state_path};
use super::registry::AslRegistry;

/// The start state's name, or every problem found (with those of parsing).
pub(super) fn validate<'a>(parsed: &'a Parsed, registry: &AslRegistry) -> Result<&'a str, AslError> {
    let mut issues: Issues = parsed.issues.clone();
    for name in &parsed.names {
        let Some(state) = parsed.states.get(name) else { continue };
        let path = state_path(name);
        if let Some(next) = &state.next
            && !parsed.has(next)
        {
            issues.add(format!("{path}.Next"), format!("`Next` names the unknown state `{next}`"));
        }
        for (i, c) in state.catch.iter().enumerate() {
            if !parsed.has(&c.chain[0]) {
                issues
                    .add(format!("{path}.Catch[{i}].Next"), format!("`Next` names the unknown state `{}`", c.chain[0]));
            }
        }
        if let Some(resource) = &state.resource
            && registry.find(resource).is_none()
        {
            issues.add(format!("{path}.Resource"), format!("the resource `{resource}` is not registered"));
        }
    }
    let start = match parsed.start.as_deref() {
        None => {
            issues.add("$.StartAt", "missing `StartAt`");
            return Err(AslError { issues: issues.0 });
        }
        Some(start) if !parsed.has(start) => {
            issues.add("$.StartAt", format!("`StartAt` names the unknown state `{start}`"));
            return Err(AslError { issues: issues.0 });
        }
        Some(start) => start,
    };
    cycles(parsed, &mut issues);
    unreachable(parsed, start, &mut issues);
    issues.or(|| start)
}

/// Chains of `Next` that come back, each reported once.
fn cycles(parsed: &Parsed, issues: &mut Issues) {
    let mut reported: HashSet<String> = HashSet::new();
    for name in &parsed.names {
        let mut seen = vec![name.as_str()];
        let mut at = name.as_str();
        while let Some(next) = parsed.states.get(at).and_then(|s| s.next.as_deref()) {
            if next == name {
                if seen.iter().all(|s| !reported.contains(*s)) {
                    issues.add(format!("{}.Next", state_path(at)), format!("cycle: {} -> {next}", seen.join(" -> ")));
                    reported.extend(seen.iter().map(|s| s.to_string()));
                }
                break;
            }
            if seen.contains(&next) || !parsed.states.contains_key(next) {
                break;
            }
            seen.push(next);
            at = next;
        }
    }
}

/// States that cannot be reached from `start` through `Next` and `Catch`.
fn unreachable(parsed: &Parsed, start: &str, issues: &mut Issues) {
    let mut reachable = HashSet::from([start]);
    let mut todo = vec![start];
    while let Some(at) = todo.pop() {
        let Some(state) = parsed.states.get(at) else { continue };
        let targets = state.next.iter().map(String::as_str).chain(state.catch.iter().map(|c| c.chain[0].as_str()));
        for target in targets {
            if parsed.has(target) && reachable.insert(target) {
                todo.push(target);
            }
        }
    }
    for name in &parsed.names {
        if !reachable.contains(name.as_str()) {
            issues.add(state_path(name), "unreachable from `StartAt`");
        }
    }
}
