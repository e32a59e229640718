//! Runs a saga against its log: steps in order, compensations in reverse,
//! retries, resume, the lease, and suspension before the deadline.
//!
//! The record is written **before** each next action starts, and the
//! transitions that follow each other without an action in between share
//! one write: "step k done" with "step k+1 started", the last "step done"
//! with "saga committed", "step failed" with "first compensation started",
//! and so on. A successful run of N steps writes N + 1 times.

use std::time::Duration;

use serde_json::Value;
use tracing::Instrument as _;

use super::definition::{Definition, Node, set_path};
use super::error::{FailedCompensation, SagaError, StepError};
use super::log::{ActionState, CompensationRecord, Lease, SagaLog, SagaRecord, SagaStatus, StepRecord};
use super::step::StepCtx;
use crate::Ctx;
use crate::retry::{Backoff, retry};

/// The lease length of a run outside Lambda (no deadline to tie it to).
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// What to do next.
enum Action {
    RunStep(usize),
    RunCompensation(usize),
    Suspend { next: String, remaining: Duration },
    Finished,
}

struct Run<'a> {
    def: &'a Definition,
    log: &'a dyn SagaLog,
    ctx: Option<Ctx>,
    owner: String,
    record: SagaRecord,
    /// Not yet in the log (first write creates it).
    fresh: bool,
    /// Compensate instead of going forward.
    aborting: bool,
    /// The step being run or aborted was interrupted by an earlier run (it
    /// was `Started` in the log): it may have acted, so when it fails (or is
    /// aborted) its own compensation runs too, with no output.
    interrupted: bool,
    /// Transitions made since the last write, for the structured log lines.
    events: Vec<(&'static str, String)>,
    /// `states[i]`: the saga state before step `i`.
    states: Vec<Value>,
}

/// Runs (or continues) a saga; returns its output as JSON.
pub(crate) async fn execute(
    def: &Definition,
    log: &dyn SagaLog,
    saga_id: &str,
    input: Option<Value>,
) -> Result<Value, SagaError> {
    start(def, log, saga_id, input, false).await
}

/// Compensates a saga that has no outcome yet.
pub(crate) async fn abort(def: &Definition, log: &dyn SagaLog, saga_id: &str) -> Result<Value, SagaError> {
    start(def, log, saga_id, None, true).await
}

async fn start(
    def: &Definition,
    log: &dyn SagaLog,
    saga_id: &str,
    input: Option<Value>,
    aborting: bool,
) -> Result<Value, SagaError> {
    let ctx = Ctx::current();
    let owner = match &ctx {
        Some(ctx) => ctx.request_id().to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    // A lost creation race means another run started it: continue as a resume.
    for _ in 0..2 {
        let (record, fresh) = match log.load(saga_id).await? {
            Some(record) => (record, false),
            None => {
                let Some(input) = input.clone() else {
                    return Err(SagaError::Definition(format!("no saga `{saga_id}` in the log")));
                };
                (new_record(def, saga_id, input, ctx.as_ref()), true)
            }
        };
        let mut run = Run {
            def,
            log,
            ctx: ctx.clone(),
            owner: owner.clone(),
            record,
            fresh,
            aborting,
            interrupted: false,
            events: Vec::new(),
            states: Vec::new(),
        };
        run.check_definition()?;
        if !run.fresh
            && !run.record.status.is_final()
            && let Some(lease) = &run.record.lease
            && lease.owner != run.owner
            && lease.expires_at_ms > def.clock.now_ms()
        {
            return Err(SagaError::InProgress { saga_id: saga_id.to_owned() });
        }
        run.rebuild_states();
        match run.drive().await {
            Err(SagaError::Log(err)) if err.is_conflict() && run.fresh => continue,
            Err(SagaError::Log(err)) if err.is_conflict() => {
                return Err(SagaError::InProgress { saga_id: saga_id.to_owned() });
            }
            other => return other,
        }
    }
    Err(SagaError::InProgress { saga_id: saga_id.to_owned() })
}

fn new_record(def: &Definition, saga_id: &str, input: Value, ctx: Option<&Ctx>) -> SagaRecord {
    let now = def.clock.now_ms();
    SagaRecord {
        saga_id: saga_id.to_owned(),
        saga: def.name.clone(),
        status: SagaStatus::Running,
        input,
        steps: def
            .nodes
            .iter()
            .map(|n| StepRecord { name: n.name.clone(), state: ActionState::Pending, output: None, error: None })
            .collect(),
        compensations: Vec::new(),
        compensation_state: None,
        output: None,
        failed_step: None,
        cause: None,
        lease: None,
        version: 0,
        created_at_ms: now,
        updated_at_ms: now,
        last_event: String::new(),
        correlation_id: ctx.and_then(|c| c.correlation_id()).map(str::to_owned),
    }
}

impl Run<'_> {
    fn check_definition(&self) -> Result<(), SagaError> {
        let names_fit = self.record.steps.len() == self.def.nodes.len()
            && self.record.steps.iter().zip(&self.def.nodes).all(|(r, n)| r.name == n.name);
        if self.record.saga != self.def.name || !names_fit {
            return Err(SagaError::Definition(format!(
                "saga `{}` in the log is `{}` with other steps than `{}`",
                self.record.saga_id, self.record.saga, self.def.name
            )));
        }
        Ok(())
    }

    fn rebuild_states(&mut self) {
        let mut state = self.record.input.clone();
        self.states = vec![state.clone()];
        for (record, node) in self.record.steps.iter().zip(&self.def.nodes) {
            match (&record.state, &record.output) {
                (ActionState::Done, Some(output)) => {
                    state = node.merge.apply(&state, output.clone());
                    self.states.push(state.clone());
                }
                _ => break,
            }
        }
    }

    async fn drive(&mut self) -> Result<Value, SagaError> {
        if self.fresh {
            self.events.push(("saga_started", String::new()));
        }
        loop {
            let action = self.prepare();
            self.persist().await?;
            match action {
                Action::Finished => return self.outcome(),
                Action::Suspend { next, remaining } => {
                    return Err(SagaError::Suspended { saga_id: self.record.saga_id.clone(), next, remaining });
                }
                Action::RunStep(i) => self.run_step(i).await,
                Action::RunCompensation(j) => self.run_compensation(j).await,
            }
        }
    }

    /// Decides the next action and records its "started" transition (or
    /// the outcome) in the record, without writing.
    fn prepare(&mut self) -> Action {
        if self.record.status == SagaStatus::Running
            && self.aborting
            && let Some(i) = self.record.steps.iter().position(|s| s.state != ActionState::Done)
        {
            let step = &mut self.record.steps[i];
            self.interrupted = step.state == ActionState::Started;
            step.state = ActionState::Failed;
            step.error = Some(StepError::new("SagaAborted", "the saga was aborted by recovery"));
            self.events.push(("step_failed", step.name.clone()));
        }
        if self.record.status == SagaStatus::Running {
            if let Some(i) = self.record.steps.iter().position(|s| s.state == ActionState::Failed) {
                self.start_compensating(i);
            } else if let Some(i) = self.record.steps.iter().position(|s| s.state != ActionState::Done) {
                let node = &self.def.nodes[i];
                if let Some(remaining) = self.too_late(node.options.budget) {
                    return self.suspend(node.name.clone(), remaining);
                }
                self.take_lease();
                // `Started` in the log: an earlier run was interrupted inside
                // this step, which may have acted. If the re-run fails, the
                // step's own compensation runs too (see `start_compensating`).
                self.interrupted = self.record.steps[i].state == ActionState::Started;
                if !self.interrupted {
                    self.record.steps[i].state = ActionState::Started;
                    self.events.push(("step_started", node.name.clone()));
                }
                return Action::RunStep(i);
            } else {
                let output = self.states.last().cloned().unwrap_or(Value::Null);
                self.record.output = Some(output);
                self.finish(SagaStatus::Committed, "saga_committed");
                return Action::Finished;
            }
        }
        if self.record.status == SagaStatus::Compensating {
            let next = self
                .record
                .compensations
                .iter()
                .position(|c| matches!(c.state, ActionState::Pending | ActionState::Started));
            let Some(j) = next else {
                if self.record.compensations.iter().all(|c| c.state == ActionState::Done) {
                    self.finish(SagaStatus::RolledBack, "saga_rolled_back");
                } else {
                    self.finish(SagaStatus::CompensationFailed, "saga_compensation_failed");
                }
                return Action::Finished;
            };
            let name = self.record.compensations[j].name.clone();
            let budget = self.compensation_node(j).map(|n| n.options.budget).unwrap_or_default();
            if let Some(remaining) = self.too_late(budget) {
                return self.suspend(name, remaining);
            }
            self.take_lease();
            if self.record.compensations[j].state != ActionState::Started {
                self.record.compensations[j].state = ActionState::Started;
                self.events.push(("compensation_started", name));
            }
            return Action::RunCompensation(j);
        }
        Action::Finished
    }

    /// Step `i` failed: records the compensation plan (or the outcome).
    fn start_compensating(&mut self, i: usize) {
        let node = &self.def.nodes[i];
        let cause =
            self.record.steps[i].error.clone().unwrap_or_else(|| StepError::new("Unknown", "no error recorded"));
        self.record.failed_step = Some(node.name.clone());
        self.record.cause = Some(cause.clone());
        let plan: Vec<CompensationRecord> = match &node.catch {
            None => self
                .def
                .compensation_plan(i, self.interrupted)
                .map(|k| CompensationRecord {
                    name: self.def.nodes[k].name.clone(),
                    step: Some(k),
                    state: ActionState::Pending,
                    error: None,
                })
                .collect(),
            Some(catchers) => match catchers.iter().find(|c| c.matches(&cause.code)) {
                None => {
                    self.finish(SagaStatus::Uncompensated, "saga_uncompensated");
                    return;
                }
                Some(catcher) => {
                    let error = serde_json::json!({ "Error": cause.code, "Cause": cause.detail });
                    let state = self.states.get(i).cloned().unwrap_or(Value::Null);
                    self.record.compensation_state = Some(match &catcher.result_path {
                        None => state,
                        Some(path) => set_path(state, path, error),
                    });
                    catcher
                        .chain
                        .iter()
                        .map(|name| CompensationRecord {
                            name: name.clone(),
                            step: None,
                            state: ActionState::Pending,
                            error: None,
                        })
                        .collect()
                }
            },
        };
        self.record.compensations = plan;
        self.record.status = SagaStatus::Compensating;
    }

    fn compensation_node(&self, j: usize) -> Option<&Node> {
        let comp = &self.record.compensations[j];
        match comp.step {
            Some(k) => self.def.nodes.get(k),
            None => self.def.chain_nodes.get(&comp.name),
        }
    }

    /// The time left when it is below `budget` (inside an invocation).
    fn too_late(&self, budget: Duration) -> Option<Duration> {
        let ctx = self.ctx.as_ref()?;
        let left = ctx.budget();
        (left < budget).then_some(left)
    }

    fn suspend(&mut self, next: String, remaining: Duration) -> Action {
        self.release_lease();
        crate::metrics::builtin::count(crate::metrics::builtin::SAGA_SUSPENDED, Some(&self.def.name));
        self.events.push(("saga_suspended", next.clone()));
        Action::Suspend { next, remaining }
    }

    fn finish(&mut self, status: SagaStatus, event: &'static str) {
        use crate::metrics::builtin;
        let metric = match status {
            SagaStatus::Committed => Some(builtin::SAGA_COMPLETED),
            SagaStatus::RolledBack => Some(builtin::SAGA_ROLLED_BACK),
            SagaStatus::CompensationFailed => Some(builtin::SAGA_COMPENSATION_FAILED),
            SagaStatus::Uncompensated => Some(builtin::SAGA_UNCOMPENSATED),
            _ => None,
        };
        if let Some(metric) = metric {
            builtin::count(metric, Some(&self.def.name));
        }
        self.record.status = status;
        self.release_lease();
        let step = self.record.failed_step.clone().unwrap_or_default();
        self.events.push((event, step));
    }

    fn take_lease(&mut self) {
        let expires_at_ms = match &self.ctx {
            Some(ctx) => ctx.deadline_epoch_ms(),
            None => self.def.clock.now_ms() + DEFAULT_LEASE.as_millis() as u64,
        };
        let mine = self.record.lease.as_ref().is_some_and(|l| l.owner == self.owner);
        if !mine {
            self.record.lease = Some(Lease { owner: self.owner.clone(), expires_at_ms });
            if self.events.is_empty() && !self.fresh {
                self.events.push(("lease_acquired", String::new()));
            }
        }
    }

    fn release_lease(&mut self) {
        self.record.lease = None;
    }

    /// Writes the record when something changed since the last write.
    async fn persist(&mut self) -> Result<(), SagaError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let previous = self.record.version;
        self.record.version = previous + 1;
        self.record.updated_at_ms = self.def.clock.now_ms();
        self.record.last_event = self.events.last().map(|(e, _)| *e).unwrap_or_default().to_owned();
        if let Err(err) = self.log.write(&self.record).await {
            self.record.version = previous;
            tracing::warn!(saga_id = %self.record.saga_id, saga = %self.record.saga, error_cause = %crate::error::Chain(&err), "saga log write failed");
            return Err(err.into());
        }
        self.fresh = false;
        // The line carries the invocation's correlation id already; the
        // saga's own is added only when it differs (a recovery run).
        let current = self.ctx.as_ref().and_then(|c| c.correlation_id());
        let saga_correlation_id = self.record.correlation_id.as_deref().filter(|id| Some(*id) != current);
        for (event, step) in self.events.drain(..) {
            tracing::info!(
                saga_id = %self.record.saga_id,
                saga = %self.record.saga,
                step = (!step.is_empty()).then_some(step.as_str()),
                event,
                saga_correlation_id,
                "saga transition"
            );
        }
        Ok(())
    }

    fn step_ctx(&self, name: &str, compensating: bool) -> StepCtx {
        StepCtx::first_attempt(&self.record.saga_id, self.def, name, compensating, self.ctx.as_ref())
    }

    fn bounded(&self, backoff: Backoff) -> Backoff {
        match &self.ctx {
            Some(ctx) => backoff.deadline(ctx.budget_deadline()),
            None => backoff,
        }
    }

    async fn run_step(&mut self, i: usize) {
        let node = &self.def.nodes[i];
        let span = crate::trace::span!(
            "saga.step",
            otel.name = %format_args!("saga.step {}", node.name),
            saga.name = %self.def.name,
            saga.id = %self.record.saga_id,
            saga.step = %node.name,
            error.type = tracing::field::Empty,
        );
        let result = match node.input(&self.states[i]) {
            Ok(input) => self.attempt_step(node, input).instrument(span.clone()).await,
            Err(err) => Err(err),
        };
        if let Err(err) = &result {
            span.record("error.type", err.code.as_str());
        }
        let record = &mut self.record.steps[i];
        match result {
            Ok(output) => {
                let state = node.merge.apply(&self.states[i], output.clone());
                self.states.truncate(i + 1);
                self.states.push(state);
                record.state = ActionState::Done;
                record.output = Some(output);
                self.events.push(("step_done", node.name.clone()));
            }
            Err(err) => {
                record.state = ActionState::Failed;
                record.error = Some(err);
                self.events.push(("step_failed", node.name.clone()));
            }
        }
    }

    /// Runs a step with its retry rules (the first rule matching the error
    /// code decides, each rule counting its own attempts, as ASL `Retry`).
    async fn attempt_step(&self, node: &Node, input: Value) -> Result<Value, StepError> {
        let mut ctx = self.step_ctx(&node.name, false);
        let mut counts = vec![1u32; node.options.retry.len()];
        loop {
            let err = match node.step.run(&ctx, input.clone()).await {
                Ok(output) => return Ok(output),
                Err(err) => err,
            };
            let Some(k) = node.options.retry.iter().position(|rule| rule.matches(&err.code)) else {
                return Err(err);
            };
            match self.bounded(node.options.retry[k].backoff).next_wait(counts[k]) {
                Some(wait) => {
                    tracing::debug!(saga_id = %ctx.saga_id, step = %node.name, attempt = ctx.attempt, code = %err.code, "retrying step");
                    tokio::time::sleep(wait).await;
                    counts[k] += 1;
                    ctx.attempt += 1;
                }
                None => return Err(err),
            }
        }
    }

    async fn run_compensation(&mut self, j: usize) {
        let comp = self.record.compensations[j].clone();
        let span = crate::trace::span!(
            "saga.compensation",
            otel.name = %format_args!("saga.compensation {}", comp.name),
            saga.name = %self.def.name,
            saga.id = %self.record.saga_id,
            saga.step = %comp.name,
            error.type = tracing::field::Empty,
        );
        let result = self.compensate(j, &comp).instrument(span.clone()).await;
        if let Err(err) = &result {
            span.record("error.type", err.code.as_str());
        }
        let record = &mut self.record.compensations[j];
        match result {
            Ok(state) => {
                record.state = ActionState::Done;
                if let Some(state) = state {
                    self.record.compensation_state = Some(state);
                }
                self.events.push(("compensation_done", comp.name));
            }
            Err(err) => {
                tracing::error!(saga_id = %self.record.saga_id, saga = %self.record.saga, step = %comp.name, code = %err.code, detail = %err.detail, "saga compensation failed");
                record.state = ActionState::Failed;
                record.error = Some(err);
                self.events.push(("compensation_failed", comp.name));
            }
        }
    }

    /// Runs compensation `j` (with its retries): the saga state it leaves
    /// for the next compensation, if it is an ASL catcher's.
    async fn compensate(&self, j: usize, comp: &CompensationRecord) -> Result<Option<Value>, StepError> {
        match self.compensation_node(j) {
            None => Err(StepError::new("SagaDefinitionError", format!("no compensation `{}` in the saga", comp.name))),
            Some(node) => {
                let ctx = self.step_ctx(&node.name, true);
                let policy = self.bounded(node.options.compensation_retry);
                match comp.step {
                    Some(k) => {
                        let output = self.record.steps[k].output.clone();
                        match node.input(&self.states[k.min(self.states.len() - 1)]) {
                            Err(err) => Err(err),
                            Ok(input) => {
                                let attempts = retry(
                                    &policy,
                                    |attempt| {
                                        let mut ctx = ctx.clone();
                                        ctx.attempt = attempt;
                                        let (input, output) = (input.clone(), output.clone());
                                        async move { node.step.compensate(&ctx, input, output).await }
                                    },
                                    |_| true,
                                )
                                .await;
                                attempts.result.map(|()| None)
                            }
                        }
                    }
                    None => {
                        let state = self.record.compensation_state.clone().unwrap_or(Value::Null);
                        let attempts = retry(
                            &policy,
                            |attempt| {
                                let mut ctx = ctx.clone();
                                ctx.attempt = attempt;
                                let state = state.clone();
                                async move { node.step.run(&ctx, state).await }
                            },
                            |_| true,
                        )
                        .await;
                        attempts.result.map(|output| Some(node.merge.apply(&state, output)))
                    }
                }
            }
        }
    }

    fn outcome(&self) -> Result<Value, SagaError> {
        outcome(&self.record)
    }
}

/// The outcome a finished record holds.
pub(crate) fn outcome(record: &SagaRecord) -> Result<Value, SagaError> {
    let saga_id = record.saga_id.clone();
    let failed_step = record.failed_step.clone().unwrap_or_default();
    let cause = record.cause.clone().unwrap_or_else(|| StepError::new("Unknown", "no cause recorded"));
    match record.status {
        SagaStatus::Committed => Ok(record.output.clone().unwrap_or(Value::Null)),
        SagaStatus::RolledBack => Err(SagaError::RolledBack { saga_id, failed_step, cause }),
        SagaStatus::CompensationFailed => Err(SagaError::CompensationFailed {
            saga_id,
            failed_step,
            cause,
            failed_compensations: record
                .compensations
                .iter()
                .filter(|c| c.state == ActionState::Failed)
                .map(|c| FailedCompensation {
                    name: c.name.clone(),
                    error: c.error.clone().unwrap_or_else(|| StepError::new("Unknown", "no error recorded")),
                })
                .collect(),
        }),
        SagaStatus::Uncompensated => Err(SagaError::Uncompensated {
            saga_id,
            failed_step,
            cause,
            completed_steps: record
                .steps
                .iter()
                .filter(|s| s.state == ActionState::Done)
                .map(|s| s.name.clone())
                .collect(),
        }),
        SagaStatus::Running | SagaStatus::Compensating => Err(SagaError::InProgress { saga_id }),
    }
}
