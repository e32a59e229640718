//! [`DynamoDbFanoutStore`]: jobs in a DynamoDB table, one item per job.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::job::{FanInClaim, JobOutcome, JobPolicy, JobRecord, JobStatus, PartFailure};
use super::store::{ClaimReason, FanoutStore, Finish, JobClaim, JobCreated, PartOutcome, Recorded, Release};
use crate::durable::dynamodb::{Item, ItemView, Table, Written, store_error, to_n, to_s};
use crate::durable::{KeyAttribute, Projection, StoreError, TableSpec};
use crate::future::BoxFuture;

/// The index of the jobs the sweeper looks at: sparse (only jobs that are
/// not final have `open`), partitioned by kind, sorted by `due`.
pub(crate) const DUE_INDEX: &str = "due-index";

/// Attribute names of a job item.
mod attr {
    pub(super) const JOB_ID: &str = "job_id";
    pub(super) const KIND: &str = "kind";
    pub(super) const STATUS: &str = "status";
    pub(super) const POLICY: &str = "policy";
    pub(super) const TOTAL: &str = "total";
    pub(super) const COMPLETED: &str = "completed";
    pub(super) const FAILED: &str = "failed";
    pub(super) const REMAINING: &str = "remaining";
    /// The prefix of a part's result attribute (`result#7`).
    pub(super) const RESULT: &str = "result#";
    /// The prefix of a part's failure attribute (`failure#7`).
    pub(super) const FAILURE: &str = "failure#";
    pub(super) const CONTEXT: &str = "context";
    pub(super) const DEADLINE: &str = "deadline";
    pub(super) const CREATED_AT: &str = "created_at";
    pub(super) const DISPATCHED: &str = "dispatched";
    pub(super) const OUTCOME: &str = "outcome";
    pub(super) const TOKEN: &str = "claim_token";
    pub(super) const LEASE: &str = "lease_until";
    pub(super) const ATTEMPTS: &str = "fan_in_attempts";
    pub(super) const ERROR: &str = "fan_in_error";
    pub(super) const FINISHED_AT: &str = "finished_at";
    pub(super) const EXPIRATION: &str = "expiration";
    pub(super) const CORRELATION_ID: &str = "correlation_id";
    pub(super) const OPEN: &str = "open";
    pub(super) const DUE: &str = "due";
}

/// A [`FanoutStore`] on a DynamoDB table: one item per job.
///
/// The table has the partition key `job_id` (string), TTL on `expiration`
/// (set when a job ends) and, for the sweeper, a global secondary index
/// `due-index` on `open` (string, hash: the job's kind while it is not
/// final) and `due` (number, range: its deadline while running, its
/// fan-in claim's lease while completing), projecting the keys only. The
/// sweeper queries that index (`open = kind AND due <= now`) instead of
/// scanning the table: it reads only the jobs that need it.
///
/// Requests per job of N parts:
///
/// - **start**: 1 conditional `PutItem`, then N / 10 `SendMessageBatch`
///   (SQS) and 1 `UpdateItem` marking the job dispatched;
/// - **a part's success**: **1** conditional `UpdateItem` and no read: it
///   adds the result to the item (attribute `result#<index>`; a failure is
///   `failure#<index>`) and counts it, on the
///   condition that the part is not recorded and the job is running, and
///   returns the new `remaining` count (`ReturnValues=UPDATED_NEW`), which
///   tells the worker whether its part completed the job;
/// - **the fan-in**: 1 conditional `UpdateItem` claiming it (it returns
///   the whole item, every result included, so no read), and 1 marking
///   the job ended.
///
/// Keeping the results in the job's item is what makes a part one write:
/// a result in an item of its own would need a transaction with the
/// counter (`TransactWriteItems`, billed as two writes per item) or two
/// requests. The price is DynamoDB's **400 KB item limit**: every result
/// of a job shares it. Results are meant to be small (ids, object keys,
/// sizes): store a large result elsewhere (S3) and return its key. A
/// write that would exceed the limit is refused
/// (a [`StoreErrorKind::TooLarge`](crate::durable::StoreErrorKind::TooLarge) error) and the part is recorded as failed with
/// `PartResultTooLarge`.
///
/// The function needs `dynamodb:PutItem`, `UpdateItem` and `GetItem` on
/// the table, and the sweeper `dynamodb:Query` on the index.
///
/// ```no_run
/// # async fn init() {
/// let client = halo::platform::dynamodb_client().await;
/// let store = halo::fanout::DynamoDbFanoutStore::new(client, "fanout-jobs");
/// # let _ = store;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbFanoutStore {
    table: Table,
}

/// The layout of the job table: the partition key `job_id`, the sweeper's
/// index ([`DUE_INDEX`]: `open`, `due`, keys only) and TTL on `expiration`.
pub(crate) fn table_spec() -> TableSpec {
    TableSpec::new(KeyAttribute::string(attr::JOB_ID))
        .index(DUE_INDEX, KeyAttribute::string(attr::OPEN), KeyAttribute::number(attr::DUE), Projection::KeysOnly)
        .ttl(attr::EXPIRATION)
}

fn key(job_id: &str) -> Item {
    Item::from([(attr::JOB_ID.to_owned(), to_s(job_id))])
}

/// The error of the fan-out store, named.
fn of_fanout(err: StoreError) -> StoreError {
    err.of(&super::env::STORE)
}

/// A malformed item.
fn malformed(operation: &'static str, err: String) -> StoreError {
    of_fanout(StoreError::unavailable(operation, err))
}

impl DynamoDbFanoutStore {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbFanoutStore {
        DynamoDbFanoutStore { table: Table::new(client, table) }
    }

    /// Creates the table as described above (its index, TTL,
    /// on-demand billing), for local set-ups and tests; deploy it with your
    /// template in production (see the `renditions` example's
    /// `template.yaml`).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&table_spec()).await.map_err(of_fanout)
    }

    fn item(job: &JobRecord) -> Item {
        let mut item = HashMap::from([
            (attr::JOB_ID.to_owned(), to_s(&job.job_id)),
            (attr::KIND.to_owned(), to_s(&job.kind)),
            (attr::STATUS.to_owned(), to_s(job.status.as_str())),
            (attr::POLICY.to_owned(), to_s(job.policy.as_str())),
            (attr::TOTAL.to_owned(), to_n(job.total)),
            (attr::COMPLETED.to_owned(), to_n(job.completed())),
            (attr::FAILED.to_owned(), to_n(job.failed())),
            (attr::REMAINING.to_owned(), to_n(job.remaining())),
            (attr::CONTEXT.to_owned(), to_s(&job.context)),
            (attr::DEADLINE.to_owned(), to_n(job.deadline_ms)),
            (attr::CREATED_AT.to_owned(), to_n(job.created_at_ms)),
            (attr::DISPATCHED.to_owned(), AttributeValue::Bool(job.dispatched)),
            (attr::ATTEMPTS.to_owned(), to_n(job.fan_in_attempts)),
        ]);
        let optional = [
            (attr::OUTCOME, job.outcome.map(|o| to_s(o.as_str()))),
            (attr::TOKEN, job.claim.as_ref().map(|c| to_s(&c.token))),
            (attr::LEASE, job.claim.as_ref().map(|c| to_n(c.lease_until_ms))),
            (attr::ERROR, job.fan_in_error.as_ref().map(to_s)),
            (attr::FINISHED_AT, job.finished_at_ms.map(to_n)),
            (attr::EXPIRATION, job.expires_at_s.map(to_n)),
            (attr::CORRELATION_ID, job.correlation_id.as_ref().map(to_s)),
            (attr::OPEN, (!job.status.is_final()).then(|| to_s(&job.kind))),
            (attr::DUE, job.due_ms().map(to_n)),
        ];
        item.extend(optional.into_iter().filter_map(|(name, value)| value.map(|v| (name.to_owned(), v))));
        item.extend(job.results.iter().map(|(i, r)| (format!("{}{i}", attr::RESULT), to_s(r))));
        item.extend(job.failures.iter().map(|(i, f)| (format!("{}{i}", attr::FAILURE), failure_value(f))));
        item
    }

    /// An `UpdateItem` of `job_id`: `expression` under `condition`, with
    /// the placeholders' names and values.
    fn update(
        &self,
        job_id: &str,
        expression: &str,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> UpdateItemFluentBuilder {
        let mut request = self
            .table
            .client()
            .update_item()
            .table_name(self.table.name())
            .key(attr::JOB_ID, to_s(job_id))
            .update_expression(expression)
            .condition_expression(condition);
        for (placeholder, name) in names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(placeholder, value);
        }
        request
    }

    async fn record_outcome(&self, job_id: &str, index: u32, outcome: PartOutcome<'_>) -> Result<Recorded, StoreError> {
        let (attribute, counter, value) = match outcome {
            PartOutcome::Done(result) => (attr::RESULT, attr::COMPLETED, to_s(result)),
            PartOutcome::Failed(failure) => (attr::FAILURE, attr::FAILED, failure_value(failure)),
        };
        // The SET comes first: a write that would exceed the item size is
        // refused before anything changes (DynamoDB, and moto too).
        let (part, result, failure) =
            (format!("{attribute}{index}"), format!("{}{index}", attr::RESULT), format!("{}{index}", attr::FAILURE));
        let result = self
            .update(
                job_id,
                "SET #part = :value ADD #counter :one, #remaining :minus_one",
                "#status = :running AND #total > :index AND attribute_not_exists(#result) \
                 AND attribute_not_exists(#failure)",
                &[
                    ("#part", &part),
                    ("#result", &result),
                    ("#failure", &failure),
                    ("#counter", counter),
                    ("#remaining", attr::REMAINING),
                    ("#status", attr::STATUS),
                    ("#total", attr::TOTAL),
                ],
                vec![
                    (":value", value),
                    (":one", to_n(1)),
                    (":minus_one", to_n(-1)),
                    (":running", to_s(JobStatus::Running.as_str())),
                    (":index", to_n(index)),
                ],
            )
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match self.table.conditional("UpdateItem", || key(job_id), result).await.map_err(of_fanout)? {
            Written::Applied(output) => {
                let empty = Item::new();
                let answer = ItemView::new(output.attributes().unwrap_or(&empty), "the part's answer");
                let remaining = answer.required_number(attr::REMAINING).map_err(|e| malformed("UpdateItem", e))?;
                Ok(Recorded::Counted { remaining: remaining as u32 })
            }
            Written::Refused(item) => {
                let job = item.map(|item| parse(&item).map_err(|e| malformed("UpdateItem", e))).transpose()?;
                Ok(Recorded::Refused(job.map(Box::new)))
            }
        }
    }

    async fn claim_fan_in(&self, job_id: &str, claim: &JobClaim) -> Result<Option<JobRecord>, StoreError> {
        let condition = match claim.reason {
            ClaimReason::Completion => {
                "#status = :running AND #remaining = :zero AND (#policy = :collect OR #failed = :zero)"
            }
            ClaimReason::FailFast => "#status = :running AND #policy = :fail_fast AND #failed > :zero",
            ClaimReason::Deadline => "#status = :running AND #deadline <= :now",
            ClaimReason::Retry => "#status = :completing AND (attribute_not_exists(#lease) OR #lease <= :now)",
        };
        let mut names = vec![("#status", attr::STATUS), ("#token", attr::TOKEN), ("#lease", attr::LEASE)];
        names.extend([("#due", attr::DUE), ("#attempts", attr::ATTEMPTS)]);
        let mut values = vec![
            (":completing", to_s(JobStatus::Completing.as_str())),
            (":token", to_s(&claim.token)),
            (":lease", to_n(claim.lease_until_ms)),
            (":one", to_n(1)),
        ];
        let mut set = "SET #status = :completing, #token = :token, #lease = :lease, #due = :lease".to_owned();
        if let Some(outcome) = claim.reason.outcome() {
            set.push_str(", #outcome = :outcome");
            names.push(("#outcome", attr::OUTCOME));
            values.push((":outcome", to_s(outcome.as_str())));
        }
        match claim.reason {
            ClaimReason::Completion => {
                names.extend([("#remaining", attr::REMAINING), ("#policy", attr::POLICY), ("#failed", attr::FAILED)]);
                values.extend([
                    (":running", to_s(JobStatus::Running.as_str())),
                    (":zero", to_n(0)),
                    (":collect", to_s(JobPolicy::Collect.as_str())),
                ]);
            }
            ClaimReason::FailFast => {
                names.extend([("#policy", attr::POLICY), ("#failed", attr::FAILED)]);
                values.extend([
                    (":running", to_s(JobStatus::Running.as_str())),
                    (":zero", to_n(0)),
                    (":fail_fast", to_s(JobPolicy::FailFast.as_str())),
                ]);
            }
            ClaimReason::Deadline => {
                names.push(("#deadline", attr::DEADLINE));
                values.extend([(":running", to_s(JobStatus::Running.as_str())), (":now", to_n(claim.now_ms))]);
            }
            ClaimReason::Retry => values.push((":now", to_n(claim.now_ms))),
        }
        let request = self
            .update(job_id, &format!("{set} ADD #attempts :one"), condition, &names, values)
            .return_values(ReturnValue::AllNew);
        match self.table.update_if(request).await.map_err(of_fanout)? {
            Some(output) => match output.attributes() {
                Some(item) => parse(item).map(Some).map_err(|e| malformed("UpdateItem", e)),
                None => Err(malformed("UpdateItem", "the claim returned no item".to_owned())),
            },
            None => Ok(None),
        }
    }
}

fn failure_value(failure: &PartFailure) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("code".to_owned(), to_s(&failure.code)),
        ("detail".to_owned(), to_s(&failure.detail)),
    ]))
}

/// A job from its item.
fn parse(item: &Item) -> Result<JobRecord, String> {
    let view = ItemView::new(item, "the job item");
    let status = view.required_string(attr::STATUS)?;
    let status = JobStatus::parse(&status).ok_or_else(|| format!("unknown job status `{status}`"))?;
    let policy = view.required_string(attr::POLICY)?;
    let policy = JobPolicy::parse(&policy).ok_or_else(|| format!("unknown policy `{policy}`"))?;
    let outcome = match view.string(attr::OUTCOME) {
        Some(text) => Some(JobOutcome::parse(&text).ok_or_else(|| format!("unknown outcome `{text}`"))?),
        None => None,
    };
    let index = |key: &str| key.parse::<u32>().map_err(|_| format!("`{key}` is not a part index"));
    let mut results = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for (name, value) in item {
        if let Some(key) = name.strip_prefix(attr::RESULT) {
            let text = value.as_s().map_err(|_| format!("the result of part {key} is not a string"))?;
            results.insert(index(key)?, text.clone());
        } else if let Some(key) = name.strip_prefix(attr::FAILURE) {
            let failure = value.as_m().map_err(|_| format!("the failure of part {key} is not a map"))?;
            let field = |name: &str| failure.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            failures.insert(index(key)?, PartFailure::new(field("code"), field("detail")));
        }
    }
    let claim = match (view.string(attr::TOKEN), view.number(attr::LEASE)?) {
        (Some(token), Some(lease_until_ms)) => Some(FanInClaim { token, lease_until_ms }),
        _ => None,
    };
    Ok(JobRecord {
        job_id: view.required_string(attr::JOB_ID)?,
        kind: view.required_string(attr::KIND)?,
        status,
        policy,
        total: view.required_number(attr::TOTAL)? as u32,
        results,
        failures,
        context: view.string(attr::CONTEXT).unwrap_or_else(|| "null".to_owned()),
        deadline_ms: view.required_number(attr::DEADLINE)?,
        created_at_ms: view.required_number(attr::CREATED_AT)?,
        dispatched: view.flag(attr::DISPATCHED),
        outcome,
        claim,
        fan_in_attempts: view.number(attr::ATTEMPTS)?.unwrap_or(0) as u32,
        fan_in_error: view.string(attr::ERROR),
        finished_at_ms: view.number(attr::FINISHED_AT)?,
        expires_at_s: view.number(attr::EXPIRATION)?,
        correlation_id: view.string(attr::CORRELATION_ID),
    })
}

impl FanoutStore for DynamoDbFanoutStore {
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<JobCreated, StoreError>> {
        Box::pin(async move {
            let result = self
                .table
                .client()
                .put_item()
                .table_name(self.table.name())
                .set_item(Some(Self::item(job)))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", attr::JOB_ID)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match self.table.conditional("PutItem", || key(&job.job_id), result).await.map_err(of_fanout)? {
                Written::Applied(_) => Ok(JobCreated::New),
                Written::Refused(Some(item)) => {
                    parse(&item).map(|job| JobCreated::Existing(Box::new(job))).map_err(|e| malformed("PutItem", e))
                }
                Written::Refused(None) => {
                    Err(malformed("PutItem", "the create failed but no job has the id".to_owned()))
                }
            }
        })
    }

    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let request = self.update(
                job_id,
                "SET #dispatched = :yes",
                "attribute_exists(#id)",
                &[("#dispatched", attr::DISPATCHED), ("#id", attr::JOB_ID)],
                vec![(":yes", AttributeValue::Bool(true))],
            );
            self.table.update_if(request).await.map_err(of_fanout).map(drop)
        })
    }

    fn record<'a>(
        &'a self,
        job_id: &'a str,
        index: u32,
        outcome: PartOutcome<'a>,
    ) -> BoxFuture<'a, Result<Recorded, StoreError>> {
        Box::pin(self.record_outcome(job_id, index, outcome))
    }

    fn claim<'a>(
        &'a self,
        job_id: &'a str,
        claim: &'a JobClaim,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        Box::pin(self.claim_fan_in(job_id, claim))
    }

    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let request = self.update(
                job_id,
                "SET #status = :final, #finished = :now, #expiration = :expiration \
                 REMOVE #open, #due, #token, #lease, #error",
                "#status = :completing AND #token = :token",
                &[
                    ("#status", attr::STATUS),
                    ("#finished", attr::FINISHED_AT),
                    ("#expiration", attr::EXPIRATION),
                    ("#open", attr::OPEN),
                    ("#due", attr::DUE),
                    ("#token", attr::TOKEN),
                    ("#lease", attr::LEASE),
                    ("#error", attr::ERROR),
                ],
                vec![
                    (":final", to_s(finish.status.as_str())),
                    (":now", to_n(finish.now_ms)),
                    (":expiration", to_n(finish.expires_at_s)),
                    (":completing", to_s(JobStatus::Completing.as_str())),
                    (":token", to_s(&finish.token)),
                ],
            );
            self.table.update_if(request).await.map_err(of_fanout).map(|done| done.is_some())
        })
    }

    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let request = self.update(
                job_id,
                "SET #lease = :now, #due = :now, #error = :code",
                "#status = :completing AND #token = :token",
                &[
                    ("#status", attr::STATUS),
                    ("#lease", attr::LEASE),
                    ("#due", attr::DUE),
                    ("#error", attr::ERROR),
                    ("#token", attr::TOKEN),
                ],
                vec![
                    (":now", to_n(release.now_ms)),
                    (":code", to_s(&release.error_code)),
                    (":completing", to_s(JobStatus::Completing.as_str())),
                    (":token", to_s(&release.token)),
                ],
            );
            self.table.update_if(request).await.map_err(of_fanout).map(|done| done.is_some())
        })
    }

    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        Box::pin(self.get_job(job_id))
    }

    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let mut found = Vec::new();
            let mut start = None;
            while found.len() < limit {
                let output = self
                    .table
                    .client()
                    .query()
                    .table_name(self.table.name())
                    .index_name(DUE_INDEX)
                    .key_condition_expression("#open = :kind AND #due <= :now")
                    .expression_attribute_names("#open", attr::OPEN)
                    .expression_attribute_names("#due", attr::DUE)
                    .expression_attribute_values(":kind", to_s(kind))
                    .expression_attribute_values(":now", to_n(now_ms))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| of_fanout(store_error("Query", e)))?;
                let ids = output.items().iter().filter_map(|item| item.get(attr::JOB_ID)?.as_s().ok().cloned());
                found.extend(ids.take(limit - found.len()));
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
            Ok(found)
        })
    }
}

impl DynamoDbFanoutStore {
    async fn get_job(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        let item = self.table.get(|| key(job_id)).await.map_err(of_fanout)?;
        item.as_ref().map(parse).transpose().map_err(|e| malformed("GetItem", e))
    }
}
