//! [`DynamoDbFanoutStore`]: jobs in a DynamoDB table, one item per job.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};

use super::job::{FanInClaim, JobRecord, JobStatus, Outcome, PartFailure, Policy};
use super::store::{Claim, ClaimReason, Created, FanoutStore, Finish, PartOutcome, Recorded, Release, StoreError};
use crate::BoxFuture;

/// The index of the jobs the sweeper looks at: sparse (only jobs that are
/// not final have `open`), partitioned by kind, sorted by `due`.
pub const DUE_INDEX: &str = "due-index";

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
/// [`DUE_INDEX`] on `open` (string, hash: the job's kind while it is not
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
/// ([`StoreError::is_too_large`]) and the part is recorded as failed with
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
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl DynamoDbFanoutStore {
    /// The name of the sweeper's index.
    pub const DUE_INDEX: &'static str = DUE_INDEX;

    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbFanoutStore {
        DynamoDbFanoutStore { client, table: table.into() }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table with its index and TTL (on-demand billing), for
    /// local set-ups and tests; deploy it with your template in production
    /// (see the `renditions` example's `template.yaml`).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let fail = |e| StoreError::new("CreateTable", e);
        let attribute = |name: &str, ty| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ty).build().map_err(fail)
        };
        let key = |name: &str, ty| KeySchemaElement::builder().attribute_name(name).key_type(ty).build().map_err(fail);
        let index = GlobalSecondaryIndex::builder()
            .index_name(DUE_INDEX)
            .key_schema(key(attr::OPEN, KeyType::Hash)?)
            .key_schema(key(attr::DUE, KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build()
            .map_err(fail)?;
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attribute(attr::JOB_ID, ScalarAttributeType::S)?)
            .attribute_definitions(attribute(attr::OPEN, ScalarAttributeType::S)?)
            .attribute_definitions(attribute(attr::DUE, ScalarAttributeType::N)?)
            .key_schema(key(attr::JOB_ID, KeyType::Hash)?)
            .global_secondary_indexes(index)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| StoreError::new("CreateTable", e.into_service_error()))?;
        crate::platform::tables::wait_active(&self.client, &self.table)
            .await
            .map_err(|e| StoreError::new("DescribeTable", e))?;
        crate::platform::tables::enable_ttl(&self.client, &self.table, attr::EXPIRATION)
            .await
            .map_err(|e| StoreError::new("UpdateTimeToLive", e))
    }

    fn item(job: &JobRecord) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::from([
            (attr::JOB_ID.to_owned(), s(&job.job_id)),
            (attr::KIND.to_owned(), s(&job.kind)),
            (attr::STATUS.to_owned(), s(job.status.as_str())),
            (attr::POLICY.to_owned(), s(job.policy.as_str())),
            (attr::TOTAL.to_owned(), n(job.total)),
            (attr::COMPLETED.to_owned(), n(job.completed())),
            (attr::FAILED.to_owned(), n(job.failed())),
            (attr::REMAINING.to_owned(), n(job.remaining())),
            (attr::CONTEXT.to_owned(), s(&job.context)),
            (attr::DEADLINE.to_owned(), n(job.deadline_ms)),
            (attr::CREATED_AT.to_owned(), n(job.created_at_ms)),
            (attr::DISPATCHED.to_owned(), AttributeValue::Bool(job.dispatched)),
            (attr::ATTEMPTS.to_owned(), n(job.fan_in_attempts)),
        ]);
        let optional = [
            (attr::OUTCOME, job.outcome.map(|o| s(o.as_str()))),
            (attr::TOKEN, job.claim.as_ref().map(|c| s(&c.token))),
            (attr::LEASE, job.claim.as_ref().map(|c| n(c.lease_until_ms))),
            (attr::ERROR, job.fan_in_error.as_ref().map(s)),
            (attr::FINISHED_AT, job.finished_at_ms.map(n)),
            (attr::EXPIRATION, job.expires_at_s.map(n)),
            (attr::CORRELATION_ID, job.correlation_id.as_ref().map(s)),
            (attr::OPEN, (!job.status.is_final()).then(|| s(&job.kind))),
            (attr::DUE, job.due_ms().map(n)),
        ];
        item.extend(optional.into_iter().filter_map(|(name, value)| value.map(|v| (name.to_owned(), v))));
        item.extend(job.results.iter().map(|(i, r)| (format!("{}{i}", attr::RESULT), s(r))));
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
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::JOB_ID, s(job_id))
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
            PartOutcome::Done(result) => (attr::RESULT, attr::COMPLETED, s(result)),
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
                    (":one", n(1)),
                    (":minus_one", n(-1)),
                    (":running", s(JobStatus::Running.as_str())),
                    (":index", n(index)),
                ],
            )
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let remaining = output.attributes().and_then(|a| a.get(attr::REMAINING));
                let remaining = number(remaining, attr::REMAINING).map_err(|e| StoreError::new("UpdateItem", e))?;
                Ok(Recorded::Counted { remaining: remaining as u32 })
            }
            Err(SdkError::ServiceError(err)) => match err.into_err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let job = match failed.item() {
                        Some(item) => Some(parse(item).map_err(|e| StoreError::new("UpdateItem", e))?),
                        // A store that does not return the item: read it.
                        None => self.get_job(job_id).await?,
                    };
                    Ok(Recorded::Refused(job.map(Box::new)))
                }
                other if is_too_large(&other) => Err(StoreError::too_large("UpdateItem", other)),
                other => Err(StoreError::new("UpdateItem", other)),
            },
            Err(err) => Err(StoreError::new("UpdateItem", err)),
        }
    }

    async fn claim_fan_in(&self, job_id: &str, claim: &Claim) -> Result<Option<JobRecord>, StoreError> {
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
            (":completing", s(JobStatus::Completing.as_str())),
            (":token", s(&claim.token)),
            (":lease", n(claim.lease_until_ms)),
            (":one", n(1)),
        ];
        let mut set = "SET #status = :completing, #token = :token, #lease = :lease, #due = :lease".to_owned();
        if let Some(outcome) = claim.reason.outcome() {
            set.push_str(", #outcome = :outcome");
            names.push(("#outcome", attr::OUTCOME));
            values.push((":outcome", s(outcome.as_str())));
        }
        match claim.reason {
            ClaimReason::Completion => {
                names.extend([("#remaining", attr::REMAINING), ("#policy", attr::POLICY), ("#failed", attr::FAILED)]);
                values.extend([
                    (":running", s(JobStatus::Running.as_str())),
                    (":zero", n(0)),
                    (":collect", s(Policy::Collect.as_str())),
                ]);
            }
            ClaimReason::FailFast => {
                names.extend([("#policy", attr::POLICY), ("#failed", attr::FAILED)]);
                values.extend([
                    (":running", s(JobStatus::Running.as_str())),
                    (":zero", n(0)),
                    (":fail_fast", s(Policy::FailFast.as_str())),
                ]);
            }
            ClaimReason::Deadline => {
                names.push(("#deadline", attr::DEADLINE));
                values.extend([(":running", s(JobStatus::Running.as_str())), (":now", n(claim.now_ms))]);
            }
            ClaimReason::Retry => values.push((":now", n(claim.now_ms))),
        }
        let request = self
            .update(job_id, &format!("{set} ADD #attempts :one"), condition, &names, values)
            .return_values(ReturnValue::AllNew);
        match conditional(request.send().await, "UpdateItem")? {
            Some(output) => match output.attributes() {
                Some(item) => parse(item).map(Some).map_err(|e| StoreError::new("UpdateItem", e)),
                None => Err(StoreError::new("UpdateItem", "the claim returned no item")),
            },
            None => Ok(None),
        }
    }
}

/// The output of a conditional `UpdateItem`, `None` when its condition
/// failed.
fn conditional(
    result: Result<UpdateItemOutput, SdkError<UpdateItemError, HttpResponse>>,
    operation: &'static str,
) -> Result<Option<UpdateItemOutput>, StoreError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(SdkError::ServiceError(err)) => match err.into_err() {
            UpdateItemError::ConditionalCheckFailedException(_) => Ok(None),
            other if is_too_large(&other) => Err(StoreError::too_large(operation, other)),
            other => Err(StoreError::new(operation, other)),
        },
        Err(err) => Err(StoreError::new(operation, err)),
    }
}

/// Whether DynamoDB refused a write for the item's size.
fn is_too_large(err: &impl ProvideErrorMetadata) -> bool {
    err.code() == Some("ValidationException") && err.message().is_some_and(|m| m.contains("Item size"))
}

fn failure_value(failure: &PartFailure) -> AttributeValue {
    AttributeValue::M(HashMap::from([("code".to_owned(), s(&failure.code)), ("detail".to_owned(), s(&failure.detail))]))
}

fn number(value: Option<&AttributeValue>, name: &str) -> Result<u64, String> {
    let text = value.and_then(|v| v.as_n().ok()).ok_or_else(|| format!("the job item has no number `{name}`"))?;
    text.parse().map_err(|_| format!("`{name}` is not a count: {text}"))
}

/// A job from its item.
fn parse(item: &HashMap<String, AttributeValue>) -> Result<JobRecord, String> {
    let string = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let required = |name: &str| string(name).ok_or_else(|| format!("the job item has no string `{name}`"));
    let optional_number = |name: &str| item.get(name).map(|v| number(Some(v), name)).transpose();
    let status = required(attr::STATUS)?;
    let status = JobStatus::parse(&status).ok_or_else(|| format!("unknown job status `{status}`"))?;
    let policy = required(attr::POLICY)?;
    let policy = Policy::parse(&policy).ok_or_else(|| format!("unknown policy `{policy}`"))?;
    let outcome = match string(attr::OUTCOME) {
        Some(text) => Some(Outcome::parse(&text).ok_or_else(|| format!("unknown outcome `{text}`"))?),
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
    let claim = match (string(attr::TOKEN), optional_number(attr::LEASE)?) {
        (Some(token), Some(lease_until_ms)) => Some(FanInClaim { token, lease_until_ms }),
        _ => None,
    };
    Ok(JobRecord {
        job_id: required(attr::JOB_ID)?,
        kind: required(attr::KIND)?,
        status,
        policy,
        total: number(item.get(attr::TOTAL), attr::TOTAL)? as u32,
        results,
        failures,
        context: string(attr::CONTEXT).unwrap_or_else(|| "null".to_owned()),
        deadline_ms: number(item.get(attr::DEADLINE), attr::DEADLINE)?,
        created_at_ms: number(item.get(attr::CREATED_AT), attr::CREATED_AT)?,
        dispatched: matches!(item.get(attr::DISPATCHED), Some(AttributeValue::Bool(true))),
        outcome,
        claim,
        fan_in_attempts: optional_number(attr::ATTEMPTS)?.unwrap_or(0) as u32,
        fan_in_error: string(attr::ERROR),
        finished_at_ms: optional_number(attr::FINISHED_AT)?,
        expires_at_s: optional_number(attr::EXPIRATION)?,
        correlation_id: string(attr::CORRELATION_ID),
    })
}

impl FanoutStore for DynamoDbFanoutStore {
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<Created, StoreError>> {
        Box::pin(async move {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Self::item(job)))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", attr::JOB_ID)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match result {
                Ok(_) => Ok(Created::New),
                Err(SdkError::ServiceError(err)) => match err.into_err() {
                    PutItemError::ConditionalCheckFailedException(failed) => match failed.item() {
                        Some(item) => parse(item)
                            .map(|job| Created::Existing(Box::new(job)))
                            .map_err(|e| StoreError::new("PutItem", e)),
                        None => match self.get_job(&job.job_id).await? {
                            Some(existing) => Ok(Created::Existing(Box::new(existing))),
                            None => Err(StoreError::new("PutItem", "the create failed but no job has the id")),
                        },
                    },
                    other if is_too_large(&other) => Err(StoreError::too_large("PutItem", other)),
                    other => Err(StoreError::new("PutItem", other)),
                },
                Err(err) => Err(StoreError::new("PutItem", err)),
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
            conditional(request.send().await, "UpdateItem").map(drop)
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

    fn claim<'a>(&'a self, job_id: &'a str, claim: &'a Claim) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
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
                    (":final", s(finish.status.as_str())),
                    (":now", n(finish.now_ms)),
                    (":expiration", n(finish.expires_at_s)),
                    (":completing", s(JobStatus::Completing.as_str())),
                    (":token", s(&finish.token)),
                ],
            );
            conditional(request.send().await, "UpdateItem").map(|done| done.is_some())
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
                    (":now", n(release.now_ms)),
                    (":code", s(&release.error_code)),
                    (":completing", s(JobStatus::Completing.as_str())),
                    (":token", s(&release.token)),
                ],
            );
            conditional(request.send().await, "UpdateItem").map(|done| done.is_some())
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
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(DUE_INDEX)
                    .key_condition_expression("#open = :kind AND #due <= :now")
                    .expression_attribute_names("#open", attr::OPEN)
                    .expression_attribute_names("#due", attr::DUE)
                    .expression_attribute_values(":kind", s(kind))
                    .expression_attribute_values(":now", n(now_ms))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| StoreError::new("Query", e.into_service_error()))?;
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
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::JOB_ID, s(job_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::new("GetItem", e.into_service_error()))?;
        output.item().map(parse).transpose().map_err(|e| StoreError::new("GetItem", e))
    }
}
