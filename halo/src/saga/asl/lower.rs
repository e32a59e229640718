//! Phase 3: a valid definition into the saga's steps (the states from
//! `StartAt` along `Next`) and the compensation chains their `Catch`es
//! start.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::error::{AslError, Issues};
use super::parse::{Kind, Parsed, State, state_path};
use super::registry::{AslRegistry, TaskFn};
use crate::saga::definition::{Catcher, Merge, Node};
use crate::saga::saga::Saga;
use crate::saga::step::StepOptions;

/// The saga of a definition [`validate`](super::validate::validate)d, from
/// `start`.
pub(super) fn lower(parsed: &Parsed, start: &str, registry: &AslRegistry) -> Result<Saga<Value, Value>, AslError> {
    let mut issues = Issues::default();
    let mut main = Vec::new();
    let mut at = start;
    while let Some(state) = parsed.states.get(at) {
        match state.kind {
            Kind::Succeed => break,
            Kind::Fail => {
                issues.add(state_path(at), "the path from `StartAt` must end in `Succeed` or `End: true`, not `Fail`");
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
        let Some(state) = parsed.states.get(*name) else { continue };
        let mut catchers = Vec::new();
        for (i, catcher) in state.catch.iter().enumerate() {
            let mut chain = Vec::new();
            let mut at = catcher.chain[0].as_str();
            while let Some(chained) = parsed.states.get(at) {
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
            catchers.push(Catcher { codes: catcher.codes.clone(), result_path: catcher.result_path.clone(), chain });
        }
        let mut node = node(name, state, registry, false);
        node.catch = Some(catchers);
        nodes.push(node);
    }
    issues.or(|| Saga::from_parts(format!("asl:{start}"), nodes, chain_nodes))
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
        pause: None,
    }
}
