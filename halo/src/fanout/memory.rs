//! [`MemoryFanoutStore`]: jobs in process memory.

use super::job::{FanInClaim, JobRecord, JobStatus};
use super::store::{FanoutStore, Finish, ITEM_LIMIT_BYTES, JobClaim, JobCreated, PartOutcome, Recorded, Release};
use crate::durable::{MemoryMap, StoreError};
use crate::future::BoxFuture;

/// An in-memory [`FanoutStore`]: the embedded default for local runs and
/// unit tests. Clones share their jobs.
///
/// It keeps the same promises as
/// [`DynamoDbFanoutStore`](super::DynamoDbFanoutStore) (atomic conditional
/// writes, the 400 KB record limit) but lives in one process: inside
/// Lambda every container would have its own, so halo never picks it
/// there by itself.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use halo::fanout::MemoryFanoutStore;
/// use halo::fanout::store::{FanoutStore, JobRecord, PartOutcome, Recorded};
///
/// let store = MemoryFanoutStore::new();
/// store.create(&JobRecord::new("job-1", "thumbnails", 2, 60_000, 1_000)).await.unwrap();
/// let first = store.record("job-1", 0, PartOutcome::Done("\"small.png\"")).await.unwrap();
/// assert_eq!(first, Recorded::Counted { remaining: 1 });
/// // A redelivered part is not counted again.
/// let again = store.record("job-1", 0, PartOutcome::Done("\"small.png\"")).await.unwrap();
/// assert!(matches!(again, Recorded::Refused(Some(_))));
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryFanoutStore {
    jobs: MemoryMap<JobRecord>,
}

impl MemoryFanoutStore {
    /// An empty store.
    pub fn new() -> MemoryFanoutStore {
        MemoryFanoutStore::default()
    }
}

/// About what the record takes as a DynamoDB item: its texts, the keys of
/// its maps, and a fixed allowance for the other attributes.
fn approximate_size(job: &JobRecord) -> usize {
    let results: usize = job.results.values().map(|r| r.len() + 10).sum();
    let failures: usize = job.failures.values().map(|f| f.code.len() + f.detail.len() + 24).sum();
    512 + job.job_id.len() + job.kind.len() + job.context.len() + results + failures
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl FanoutStore for MemoryFanoutStore {
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<JobCreated, StoreError>> {
        let mut jobs = self.jobs.lock();
        let created = match jobs.get(&job.job_id) {
            Some(existing) => JobCreated::Existing(Box::new(existing.clone())),
            None if approximate_size(job) > ITEM_LIMIT_BYTES => {
                return ready(Err(
                    StoreError::too_large("PutItem", "the job's record would exceed 400 KB").of(&super::env::STORE)
                ));
            }
            None => {
                jobs.insert(job.job_id.clone(), job.clone());
                JobCreated::New
            }
        };
        ready(Ok(created))
    }

    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Some(job) = self.jobs.lock().get_mut(job_id) {
            job.dispatched = true;
        }
        ready(Ok(()))
    }

    fn record<'a>(
        &'a self,
        job_id: &'a str,
        index: u32,
        outcome: PartOutcome<'a>,
    ) -> BoxFuture<'a, Result<Recorded, StoreError>> {
        let mut jobs = self.jobs.lock();
        let Some(job) = jobs.get_mut(job_id) else { return ready(Ok(Recorded::Refused(None))) };
        if job.status != JobStatus::Running || job.is_recorded(index) || index >= job.total {
            return ready(Ok(Recorded::Refused(Some(Box::new(job.clone())))));
        }
        let mut next = job.clone();
        match outcome {
            PartOutcome::Done(result) => next.results.insert(index, result.to_owned()).map(drop),
            PartOutcome::Failed(failure) => next.failures.insert(index, failure.clone()).map(drop),
        };
        if approximate_size(&next) > ITEM_LIMIT_BYTES {
            return ready(Err(
                StoreError::too_large("UpdateItem", "the job's record would exceed 400 KB").of(&super::env::STORE)
            ));
        }
        let remaining = next.remaining();
        *job = next;
        ready(Ok(Recorded::Counted { remaining }))
    }

    fn claim<'a>(
        &'a self,
        job_id: &'a str,
        claim: &'a JobClaim,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        let mut jobs = self.jobs.lock();
        let claimed = match jobs.get_mut(job_id) {
            Some(job) if claim.reason.holds(job, claim.now_ms) => {
                job.status = JobStatus::Completing;
                if let Some(outcome) = claim.reason.outcome() {
                    job.outcome = Some(outcome);
                }
                job.claim = Some(FanInClaim { token: claim.token.clone(), lease_until_ms: claim.lease_until_ms });
                job.fan_in_attempts += 1;
                Some(job.clone())
            }
            _ => None,
        };
        ready(Ok(claimed))
    }

    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut jobs = self.jobs.lock();
        let finished = match jobs.get_mut(job_id) {
            Some(job) if holds_claim(job, &finish.token) => {
                job.status = finish.status;
                job.claim = None;
                job.fan_in_error = None;
                job.finished_at_ms = Some(finish.now_ms);
                job.expires_at_s = Some(finish.expires_at_s);
                true
            }
            _ => false,
        };
        ready(Ok(finished))
    }

    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut jobs = self.jobs.lock();
        let released = match jobs.get_mut(job_id) {
            Some(job) if holds_claim(job, &release.token) => {
                job.claim = Some(FanInClaim { token: release.token.clone(), lease_until_ms: release.now_ms });
                job.fan_in_error = Some(release.error_code.clone());
                true
            }
            _ => false,
        };
        ready(Ok(released))
    }

    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        ready(Ok(self.jobs.lock().get(job_id).cloned()))
    }

    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        let jobs = self.jobs.lock();
        let mut due: Vec<(u64, String)> = jobs
            .values()
            .filter(|job| job.kind == kind)
            .filter_map(|job| job.due_ms().filter(|due| *due <= now_ms).map(|due| (due, job.job_id.clone())))
            .collect();
        due.sort();
        ready(Ok(due.into_iter().take(limit).map(|(_, id)| id).collect()))
    }
}

/// Whether `job` is completing under the claim `token`.
fn holds_claim(job: &JobRecord, token: &str) -> bool {
    job.status == JobStatus::Completing && job.claim.as_ref().is_some_and(|c| c.token == token)
}
