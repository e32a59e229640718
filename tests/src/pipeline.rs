//! The fan-out pipeline's promises (`halo::fanout`), written once and run
//! on two queues: SQS on moto ([`SqsQueue`], with a DynamoDB store) and the
//! in-memory queue ([`MemoryQueue`], with the memory store). The test
//! drives the deliveries as Lambda's SQS poller would: it receives a batch,
//! hands it to the worker, deletes what succeeded and lets the rest come
//! back, until `maxReceiveCount` moves it to the dead-letter queue.
//!
//! [`fanout_pipeline_tests!`](crate::fanout_pipeline_tests) writes one test
//! per scenario, each on a fresh [`Rig`].

use halo::durable::StoreError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsMessage;
use halo::batch::{BatchOptions, RawData, Sqs};
use halo::fanout::dispatch::{DispatchError, Dispatcher, PartMessage};
use halo::fanout::store::{
    ClaimReason, FanoutStore, Finish, JobClaim, JobCreated, JobRecord, PartOutcome, Recorded, Release,
};
use halo::fanout::{
    FanIn, Fanout, FanoutError, JobOutcome, JobPolicy, JobStatus, MemoryDispatcher, NewJob, Part, PartRecording,
    Started,
};
use halo::platform::{Clock, ManualClock};
use halo::retry::Backoff;
use halo::test_support::fanout as queue_steps;
use halo::{BoxFuture, Error};

use crate::sqs::{Queues, sqs_message};

/// Deliveries of a message before the queue moves it to the dead-letter
/// queue (the queue's `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 2;

/// How long a scenario may wait for its queue to drain.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A queue with a dead-letter queue, as the scenarios drive it.
pub trait PipelineQueue: Send + Sync + 'static {
    /// Receives up to 10 visible messages (a delivery of each); a message
    /// delivered [`MAX_RECEIVES`] times before goes to the dead-letter
    /// queue instead.
    fn receive(&self) -> impl Future<Output = Vec<SqsMessage>> + Send;
    /// Deletes delivered messages (the batch succeeded for them).
    fn delete(&self, messages: Vec<SqsMessage>) -> impl Future<Output = ()> + Send;
    /// Makes delivered (or held) messages visible again: they come back.
    fn redeliver(&self, messages: Vec<SqsMessage>) -> impl Future<Output = ()> + Send;
    /// Keeps delivered messages in flight (invisible) until redelivered.
    fn hold(&self, messages: Vec<SqsMessage>) -> impl Future<Output = ()> + Send;
    /// Receives and deletes up to 10 messages of the dead-letter queue.
    fn take_dead(&self) -> impl Future<Output = Vec<SqsMessage>> + Send;
}

/// SQS on moto: a queue with a visibility timeout of 0 and a dead-letter
/// queue after [`MAX_RECEIVES`].
#[derive(Debug)]
pub struct SqsQueue {
    /// The queues.
    pub queues: Queues,
}

fn handles(messages: &[SqsMessage]) -> Vec<aws_sdk_sqs::types::Message> {
    messages
        .iter()
        .map(|m| aws_sdk_sqs::types::Message::builder().set_receipt_handle(m.receipt_handle.clone()).build())
        .collect()
}

impl PipelineQueue for SqsQueue {
    async fn receive(&self) -> Vec<SqsMessage> {
        self.queues.receive().await.iter().map(|m| sqs_message(m, &self.queues.arn)).collect()
    }

    async fn delete(&self, messages: Vec<SqsMessage>) {
        self.queues.delete(&self.queues.url, &handles(&messages)).await;
    }

    async fn redeliver(&self, messages: Vec<SqsMessage>) {
        self.queues.set_visibility(&handles(&messages), 0).await;
    }

    async fn hold(&self, messages: Vec<SqsMessage>) {
        self.queues.set_visibility(&handles(&messages), 600).await;
    }

    async fn take_dead(&self) -> Vec<SqsMessage> {
        let dead = self.queues.receive_dead().await;
        self.queues.delete(&self.queues.dlq_url, &dead).await;
        dead.iter().map(|m| sqs_message(m, &self.queues.dlq_arn)).collect()
    }
}

/// The in-memory queue of a local run, with a dead-letter list.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    /// The queue parts are sent to.
    pub queue: MemoryDispatcher,
    dead: Mutex<Vec<SqsMessage>>,
}

impl MemoryQueue {
    /// A queue over `queue`.
    pub fn new(queue: MemoryDispatcher) -> MemoryQueue {
        MemoryQueue { queue, dead: Mutex::default() }
    }
}

fn receive_count(message: &SqsMessage) -> u32 {
    message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl PipelineQueue for MemoryQueue {
    async fn receive(&self) -> Vec<SqsMessage> {
        let (dead, live): (Vec<_>, Vec<_>) =
            queue_steps::take(&self.queue, 10).into_iter().partition(|m| receive_count(m) > MAX_RECEIVES);
        self.dead.lock().unwrap().extend(dead);
        live
    }

    async fn delete(&self, _messages: Vec<SqsMessage>) {}

    async fn redeliver(&self, messages: Vec<SqsMessage>) {
        queue_steps::put_back(&self.queue, messages);
    }

    async fn hold(&self, _messages: Vec<SqsMessage>) {}

    async fn take_dead(&self) -> Vec<SqsMessage> {
        let mut dead = self.dead.lock().unwrap();
        let count = dead.len().min(10);
        dead.drain(..count).collect()
    }
}

/// What a scenario runs on: a fresh store, where parts are sent, and the
/// queue they arrive on.
pub struct Rig<Q> {
    /// The job store (empty).
    pub store: Arc<dyn FanoutStore>,
    /// Where parts are sent.
    pub dispatcher: Arc<dyn Dispatcher>,
    /// The queue the dispatcher sends to.
    pub queue: Arc<Q>,
}

impl Rig<MemoryQueue> {
    /// The memory store and queue.
    pub fn memory() -> Rig<MemoryQueue> {
        let queue = MemoryDispatcher::new();
        Rig {
            store: Arc::new(halo::fanout::MemoryFanoutStore::new()),
            dispatcher: Arc::new(queue.clone()),
            queue: Arc::new(MemoryQueue::new(queue)),
        }
    }
}

impl<Q: PipelineQueue> Rig<Q> {
    fn fanout(&self) -> Fanout {
        Fanout::new("numbers", self.store.clone()).dispatcher(self.dispatcher.clone())
    }
}

/// The scenarios' worker and fan-in: a part's result is twice its body;
/// some parts always fail; every call is counted.
#[derive(Debug, Default)]
struct World {
    failing: BTreeSet<u64>,
    work_calls: Mutex<BTreeMap<u32, u32>>,
    deliveries: Mutex<HashMap<String, u32>>,
    fan_ins: Mutex<Vec<FanIn<String, u64>>>,
    fan_in_calls: AtomicUsize,
    fan_in_failures: AtomicU32,
}

impl World {
    fn failing(parts: impl IntoIterator<Item = u64>) -> World {
        World { failing: parts.into_iter().collect(), ..World::default() }
    }

    async fn work(&self, part: Part<u64>) -> Result<u64, Error> {
        *self.work_calls.lock().unwrap().entry(part.index).or_default() += 1;
        if self.failing.contains(&part.body) {
            return Err(Error::unprocessable("this part always fails").with_code("Poison"));
        }
        Ok(part.body * 2)
    }

    async fn fan_in(&self, fan_in: FanIn<String, u64>) -> Result<(), Error> {
        self.fan_in_calls.fetch_add(1, Ordering::SeqCst);
        let fail = self.fan_in_failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if fail.is_ok() {
            return Err(Error::unavailable("the asset store is down"));
        }
        self.fan_ins.lock().unwrap().push(fan_in);
        Ok(())
    }

    fn fan_ins(&self) -> Vec<FanIn<String, u64>> {
        self.fan_ins.lock().unwrap().clone()
    }

    fn work_calls(&self, index: u32) -> u32 {
        self.work_calls.lock().unwrap().get(&index).copied().unwrap_or(0)
    }

    /// Counts a delivery of each message; returns how many each had.
    fn delivered(&self, messages: &[SqsMessage]) -> Vec<u32> {
        let mut deliveries = self.deliveries.lock().unwrap();
        messages
            .iter()
            .map(|m| {
                let count = deliveries.entry(m.message_id.clone().unwrap_or_default()).or_default();
                *count += 1;
                *count
            })
            .collect()
    }
}

fn event_of<T>(messages: Vec<SqsMessage>) -> Sqs<T> {
    serde_json::from_value(serde_json::json!({ "Records": messages })).expect("an SQS event")
}

fn part_index(message: &SqsMessage) -> u32 {
    let attribute = message.message_attributes.get(queue_steps::PART_ATTRIBUTE);
    attribute.and_then(|a| a.string_value.as_deref()?.parse().ok()).expect("a part index")
}

/// Hands `messages` to the worker as one batch; returns the ids it failed.
async fn deliver(fanout: &Fanout, world: &World, messages: Vec<SqsMessage>) -> BTreeSet<String> {
    let ids: BTreeSet<String> = messages.iter().filter_map(|m| m.message_id.clone()).collect();
    let options = BatchOptions::default().concurrency(4);
    let outcome = fanout.process(event_of::<u64>(messages), &options, |p| world.work(p), |f| world.fan_in(f)).await;
    match outcome {
        Ok(response) => response.failed_ids().into_iter().map(str::to_owned).collect(),
        Err(_) => ids, // every record failed: the whole batch comes back
    }
}

/// How a consumer acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acks {
    /// Deletes what succeeded.
    Once,
    /// Deletes a message only from its second delivery on: every message
    /// is delivered at least twice.
    Twice,
}

/// Delivers the queue's messages to the worker, as Lambda's poller would,
/// until the queue is empty and `done` holds; messages for which `hold`
/// holds are kept in flight, undelivered, and returned.
async fn consume<Q: PipelineQueue>(
    fanout: &Fanout,
    world: &World,
    queue: &Q,
    acks: Acks,
    hold: impl Fn(&SqsMessage) -> bool,
    done: impl Fn() -> bool,
) -> Vec<SqsMessage> {
    let started = Instant::now();
    let mut kept = Vec::new();
    loop {
        let messages = queue.receive().await;
        if messages.is_empty() {
            if done() {
                return kept;
            }
            assert!(started.elapsed() < TIMEOUT, "the pipeline did not finish within {TIMEOUT:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let (held, messages): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| hold(m));
        queue.hold(held.clone()).await;
        kept.extend(held);
        let counts = world.delivered(&messages);
        let failed = deliver(fanout, world, messages.clone()).await;
        let (mut ack, mut back) = (Vec::new(), Vec::new());
        for (message, count) in messages.into_iter().zip(counts) {
            let ok = !message.message_id.as_ref().is_some_and(|id| failed.contains(id));
            if ok && (acks == Acks::Once || count >= 2) { ack.push(message) } else { back.push(message) }
        }
        queue.delete(ack).await;
        queue.redeliver(back).await;
    }
}

/// Hands the dead-letter queue's messages to halo's dead-letter handler.
async fn handle_dead_letters<Q: PipelineQueue>(fanout: &Fanout, world: &World, queue: &Q) -> usize {
    let mut handled = 0;
    loop {
        let dead = queue.take_dead().await;
        if dead.is_empty() {
            return handled;
        }
        handled += dead.len();
        let batch: Sqs<RawData> = event_of(dead);
        let response = fanout.process_dead_letters(batch, |f| world.fan_in(f)).await.expect("the dead-letter batch");
        assert!(response.is_success(), "every dead letter is recorded: {response:?}");
    }
}

async fn start(fanout: &Fanout, job: NewJob<String>, parts: u64) -> Started {
    fanout.start(job, &(0..parts).collect::<Vec<u64>>()).await.expect("the job starts")
}

async fn status(fanout: &Fanout, job_id: &str) -> halo::fanout::JobView {
    fanout.status(job_id).await.expect("the status").expect("the job exists")
}

fn doubles(indexes: impl IntoIterator<Item = u32>) -> BTreeMap<u32, u64> {
    indexes.into_iter().map(|i| (i, u64::from(i) * 2)).collect()
}

/// 100 parts, four consumers at once, every message delivered at least
/// twice: each part is counted once and the fan-in runs exactly once,
/// with all 100 results.
pub async fn hundred_parts_on_four_consumers_every_message_twice<Q: PipelineQueue>(rig: Rig<Q>) {
    let fanout = rig.fanout();
    assert_eq!(start(&fanout, NewJob::new("job-100", "a hundred".to_owned()), 100).await, Started::Dispatched);
    let world = Arc::new(World::default());
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (fanout, world, queue) = (fanout.clone(), world.clone(), rig.queue.clone());
            tokio::spawn(async move {
                let done = || !world.fan_ins.lock().unwrap().is_empty();
                consume(&fanout, &world, &*queue, Acks::Twice, |_| false, done).await;
            })
        })
        .collect();
    for consumer in consumers {
        consumer.await.expect("a consumer");
    }
    let fan_ins = world.fan_ins();
    assert_eq!(fan_ins.len(), 1, "the fan-in ran exactly once");
    assert_eq!(fan_ins[0].results, doubles(0..100), "with all 100 results");
    assert_eq!((fan_ins[0].outcome, fan_ins[0].context.as_str()), (JobOutcome::Completed, "a hundred"));
    assert!(fan_ins[0].failed.is_empty() && fan_ins[0].missing.is_empty());
    let deliveries = world.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 100, "one message per part");
    assert!(deliveries.values().all(|n| *n >= 2), "every message was delivered twice or more");
    assert!((0..100).all(|i| world.work_calls(i) >= 2), "every part's work ran at least twice");
    let status = status(&fanout, "job-100").await;
    assert_eq!((status.status, status.completed, status.failed), (JobStatus::Completed, 100, 0));
    assert!(rig.queue.receive().await.is_empty(), "every message was deleted");
}

/// A part that always fails reaches the dead-letter queue after
/// [`MAX_RECEIVES`] deliveries; halo's handler records it and the
/// collecting job's fan-in runs once with the failed part listed.
pub async fn a_failing_part_is_collected<Q: PipelineQueue>(rig: Rig<Q>) {
    let fanout = rig.fanout();
    start(&fanout, NewJob::new("job-collect", "collect".to_owned()), 6).await;
    let world = World::failing([3]);
    consume(&fanout, &world, &*rig.queue, Acks::Once, |_| false, || true).await;
    assert!(world.fan_ins().is_empty(), "part 3 is still missing");
    assert_eq!(world.work_calls(3), MAX_RECEIVES, "delivered maxReceiveCount times");
    assert_eq!(handle_dead_letters(&fanout, &world, &*rig.queue).await, 1, "one message was dead-lettered");
    let fan_ins = world.fan_ins();
    assert_eq!(fan_ins.len(), 1);
    assert_eq!(fan_ins[0].outcome, JobOutcome::Completed);
    assert_eq!(fan_ins[0].results, doubles([0, 1, 2, 4, 5]));
    assert_eq!(fan_ins[0].failed.keys().copied().collect::<Vec<_>>(), [3]);
    assert_eq!(fan_ins[0].failed[&3].code, "DeadLettered");
    let status = status(&fanout, "job-collect").await;
    assert_eq!((status.status, status.completed, status.failed), (JobStatus::Completed, 5, 1));
    let failed: Vec<(u32, &str)> = status.failed_parts.iter().map(|f| (f.index, f.code.as_str())).collect();
    assert_eq!(failed, [(3, "DeadLettered")]);
}

/// Under fail-fast the first failed part ends the job at once: the fan-in
/// runs with the part still in flight listed as missing, and that part,
/// arriving later, is not recorded.
pub async fn a_failing_part_fails_fast<Q: PipelineQueue>(rig: Rig<Q>) {
    let fanout = rig.fanout();
    start(&fanout, NewJob::new("job-fast", "fast".to_owned()).policy(JobPolicy::FailFast), 5).await;
    let world = World::failing([1]);
    let slow = |m: &SqsMessage| part_index(m) == 4;
    let held = consume(&fanout, &world, &*rig.queue, Acks::Once, slow, || true).await;
    assert_eq!(held.len(), 1, "part 4 is in flight");
    handle_dead_letters(&fanout, &world, &*rig.queue).await;
    let fan_ins = world.fan_ins();
    assert_eq!(fan_ins.len(), 1);
    assert_eq!((fan_ins[0].outcome, fan_ins[0].missing.as_slice()), (JobOutcome::FailedFast, &[4][..]));
    assert_eq!(fan_ins[0].failed.keys().copied().collect::<Vec<_>>(), [1]);
    assert_eq!(fan_ins[0].results, doubles([0, 2, 3]));
    assert_eq!(status(&fanout, "job-fast").await.status, JobStatus::Failed);

    // Part 4 arrives after the job ended: its work runs, nothing is recorded.
    rig.queue.redeliver(held).await;
    consume(&fanout, &world, &*rig.queue, Acks::Once, |_| false, || true).await;
    assert_eq!(world.work_calls(4), 1);
    assert_eq!(world.fan_ins().len(), 1, "the fan-in ran once");
    let status = status(&fanout, "job-fast").await;
    assert_eq!((status.status, status.completed, status.missing), (JobStatus::Failed, 3, vec![4]));
}

/// When a worker "crashes": the store write of a part fails before it is
/// made (the process died after the work), or after it is made (before the
/// message was deleted, or before the fan-in was claimed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// After the work, before the part is recorded.
    BeforeRecording,
    /// After the part is recorded, before anything else.
    AfterRecording,
}

/// A store whose `record` of chosen parts fails once, as a worker that
/// died around that write would; everything else goes to the real store.
pub struct CrashingStore {
    inner: Arc<dyn FanoutStore>,
    crashes: Mutex<HashMap<(String, u32), Crash>>,
}

impl CrashingStore {
    /// Wraps `inner`, crashing once at each `(job, part, when)`.
    pub fn new(inner: Arc<dyn FanoutStore>, crashes: &[(&str, u32, Crash)]) -> CrashingStore {
        let crashes = crashes.iter().map(|(job, part, when)| ((job.to_string(), *part), *when)).collect();
        CrashingStore { inner, crashes: Mutex::new(crashes) }
    }
}

impl FanoutStore for CrashingStore {
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<JobCreated, StoreError>> {
        self.inner.create(job)
    }
    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.mark_dispatched(job_id)
    }
    fn record<'a>(
        &'a self,
        job_id: &'a str,
        index: u32,
        outcome: PartOutcome<'a>,
    ) -> BoxFuture<'a, Result<Recorded, StoreError>> {
        let crash = self.crashes.lock().unwrap().remove(&(job_id.to_owned(), index));
        Box::pin(async move {
            if crash == Some(Crash::BeforeRecording) {
                return Err(StoreError::unavailable("UpdateItem", "the worker died after its work"));
            }
            let recorded = self.inner.record(job_id, index, outcome).await?;
            match crash {
                Some(_) => Err(StoreError::unavailable("UpdateItem", "the worker died after recording")),
                None => Ok(recorded),
            }
        })
    }
    fn claim<'a>(
        &'a self,
        job_id: &'a str,
        claim: &'a JobClaim,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        self.inner.claim(job_id, claim)
    }
    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.finish(job_id, finish)
    }
    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.release(job_id, release)
    }
    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        self.inner.get(job_id)
    }
    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        self.inner.due(kind, now_ms, limit)
    }
}

/// A worker that dies after a part's work and before recording it: the
/// message comes back, the work runs again, the part counts once. One that
/// dies after recording (before the message is deleted, or, for the last
/// part, before the fan-in is claimed): the redelivery changes nothing
/// but runs the fan-in that was never claimed, once.
pub async fn a_crash_around_the_recording_counts_once<Q: PipelineQueue>(rig: Rig<Q>) {
    let crashes = [
        ("job-a", 2, Crash::BeforeRecording),
        ("job-b", 1, Crash::AfterRecording),
        ("job-c", 0, Crash::AfterRecording),
    ];
    let store = Arc::new(CrashingStore::new(rig.store.clone(), &crashes));
    let fanout = Fanout::new("numbers", store).dispatcher(rig.dispatcher.clone());
    start(&fanout, NewJob::new("job-a", "a".to_owned()), 4).await;
    start(&fanout, NewJob::new("job-b", "b".to_owned()), 3).await;
    start(&fanout, NewJob::new("job-c", "c".to_owned()), 1).await;
    let world = World::default();
    let done = || world.fan_ins.lock().unwrap().len() == 3;
    consume(&fanout, &world, &*rig.queue, Acks::Once, |_| false, done).await;
    let mut fan_ins = world.fan_ins();
    fan_ins.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    let jobs: Vec<(&str, usize)> = fan_ins.iter().map(|f| (f.job_id.as_str(), f.results.len())).collect();
    assert_eq!(jobs, [("job-a", 4), ("job-b", 3), ("job-c", 1)], "one fan-in per job, with every result");
    assert_eq!(fan_ins[0].results, doubles(0..4));
    for (job, total) in [("job-a", 4), ("job-b", 3), ("job-c", 1)] {
        let status = status(&fanout, job).await;
        assert_eq!((status.status, status.completed), (JobStatus::Completed, total), "{job} counted each part once");
    }
    assert_eq!(
        world.deliveries.lock().unwrap().values().filter(|n| **n == 2).count(),
        3,
        "the crashed parts came back"
    );
}

async fn sweep(fanout: &Fanout, world: &World) -> halo::fanout::SweepReport {
    fanout.sweep(|f| world.fan_in(f), 100).await.expect("sweep")
}

fn clock_now() -> ManualClock {
    ManualClock::at(halo::platform::SystemClock.now_ms())
}

/// A job whose parts never all arrive: the sweeper ends it at its deadline
/// (not before), naming the missing parts, once.
pub async fn the_sweeper_ends_an_overdue_job<Q: PipelineQueue>(rig: Rig<Q>) {
    let clock = clock_now();
    let fanout = rig.fanout().clock(Arc::new(clock.clone()));
    start(&fanout, NewJob::new("job-late", "late".to_owned()).deadline(Duration::from_secs(60)), 4).await;
    let world = World::default();
    // Parts 2 and 3 are lost on the way (deleted, never processed).
    let lost = consume(&fanout, &world, &*rig.queue, Acks::Once, |m| part_index(m) >= 2, || true).await;
    rig.queue.delete(lost).await;
    assert!(sweep(&fanout, &world).await.ended.is_empty(), "not due before its deadline");
    clock.advance_ms(59_999);
    assert!(sweep(&fanout, &world).await.ended.is_empty(), "not due before its deadline");
    clock.advance_ms(1);
    let report = sweep(&fanout, &world).await;
    let ended: Vec<(&str, JobOutcome, &[u32])> =
        report.ended.iter().map(|e| (e.job_id.as_str(), e.outcome, e.missing.as_slice())).collect();
    assert_eq!(ended, [("job-late", JobOutcome::TimedOut, &[2, 3][..])]);
    let fan_ins = world.fan_ins();
    assert_eq!(fan_ins.len(), 1);
    assert_eq!((fan_ins[0].outcome, fan_ins[0].missing.as_slice()), (JobOutcome::TimedOut, &[2, 3][..]));
    assert_eq!(fan_ins[0].results, doubles([0, 1]));
    let status = status(&fanout, "job-late").await;
    assert_eq!((status.status, status.missing), (JobStatus::TimedOut, vec![2, 3]));
    clock.advance_ms(3_600_000);
    assert_eq!(sweep(&fanout, &world).await, halo::fanout::SweepReport::default(), "an ended job is never swept again");
}

/// A fan-in that fails is left for the sweeper, which runs it again; a
/// fan-in whose run died holding its claim is run again once the claim
/// lapses.
pub async fn the_sweeper_retries_stuck_fan_ins<Q: PipelineQueue>(rig: Rig<Q>) {
    let clock = clock_now();
    let fanout = rig.fanout().clock(Arc::new(clock.clone())).fan_in_retry(Backoff::new(1));
    start(&fanout, NewJob::new("job-flaky", "flaky".to_owned()), 2).await;
    let world = World::default();
    world.fan_in_failures.store(1, Ordering::SeqCst);
    consume(&fanout, &world, &*rig.queue, Acks::Once, |_| false, || true).await;
    assert_eq!((world.fan_in_calls.load(Ordering::SeqCst), world.fan_ins().len()), (1, 0), "the fan-in failed");
    let stuck = fanout_job(&rig, "job-flaky").await;
    assert_eq!((stuck.status, stuck.fan_in_error.as_deref()), (JobStatus::Completing, Some("Unavailable")));

    // Another job's fan-in was claimed by a run that died (no finish).
    start(&fanout, NewJob::new("job-dead-run", "dead run".to_owned()), 1).await;
    let store = &rig.store;
    assert!(matches!(
        store.record("job-dead-run", 0, PartOutcome::Done("0")).await,
        Ok(Recorded::Counted { remaining: 0 })
    ));
    let now = clock.now_ms();
    let claim = JobClaim::new(ClaimReason::Completion, "dead", now, now + 30_000);
    assert!(store.claim("job-dead-run", &claim).await.expect("claim").is_some());
    // Its message is still in the queue: drop it (the dead run had taken it).
    let leftover = rig.queue.receive().await;
    rig.queue.delete(leftover).await;

    let report = sweep(&fanout, &world).await;
    let ended: Vec<&str> = report.ended.iter().map(|e| e.job_id.as_str()).collect();
    assert_eq!(ended, ["job-flaky"], "the failed fan-in is due at once; the dead run's claim still holds");
    clock.advance_ms(30_000);
    let report = sweep(&fanout, &world).await;
    let ended: Vec<&str> = report.ended.iter().map(|e| e.job_id.as_str()).collect();
    assert_eq!(ended, ["job-dead-run"], "run again once its claim lapsed");
    let attempts: Vec<(String, u32)> = world.fan_ins().into_iter().map(|f| (f.job_id, f.attempt)).collect();
    assert_eq!(attempts, [("job-flaky".to_owned(), 2), ("job-dead-run".to_owned(), 2)]);
    for job in ["job-flaky", "job-dead-run"] {
        assert_eq!(status(&fanout, job).await.status, JobStatus::Completed);
    }
}

/// Two workers completing a job's last two parts at the same instant: one
/// fan-in (five jobs, to give the race its chances).
pub async fn the_last_two_parts_at_once_run_one_fan_in<Q: PipelineQueue>(rig: Rig<Q>) {
    let fanout = rig.fanout();
    let world = Arc::new(World::default());
    for job in 0..5 {
        start(&fanout, NewJob::new(format!("job-{job}"), format!("job {job}")), 10).await;
    }
    let last = |m: &SqsMessage| part_index(m) >= 8;
    let held = consume(&fanout, &world, &*rig.queue, Acks::Once, last, || true).await;
    assert_eq!((held.len(), world.fan_ins().len()), (10, 0));
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let workers: Vec<_> = held
        .into_iter()
        .map(|message| {
            let (fanout, world, barrier) = (fanout.clone(), world.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                deliver(&fanout, &world, vec![message]).await
            })
        })
        .collect();
    for worker in workers {
        assert!(worker.await.expect("a worker").is_empty(), "the part succeeded");
    }
    let mut jobs: Vec<String> = world.fan_ins().into_iter().map(|f| f.job_id).collect();
    jobs.sort();
    assert_eq!(jobs, (0..5).map(|j| format!("job-{j}")).collect::<Vec<_>>(), "one fan-in per job");
}

/// A result that does not fit the job's record (alone, or with the results
/// before it: 400 KB in all) records its part as failed with
/// `PartResultTooLarge`, and the job still ends, with the part listed.
pub async fn a_result_too_large_records_the_part_as_failed<Q: PipelineQueue>(rig: Rig<Q>) {
    let fanout = rig.fanout();
    fanout.start(NewJob::new("job-big", "big".to_owned()), &[0, 1, 2, 3]).await.expect("the job starts");
    let fan_ins: Mutex<Vec<FanIn<String, String>>> = Mutex::default();
    let fan_in = |f: FanIn<String, String>| {
        fan_ins.lock().unwrap().push(f);
        std::future::ready(Ok::<(), Error>(()))
    };
    let record = |index: u32, bytes: usize| {
        let result = "r".repeat(bytes);
        let fanout = &fanout;
        let fan_in = &fan_in;
        async move { fanout.record_result("job-big", index, &result, fan_in).await.expect("record") }
    };
    assert_eq!(record(0, 500 * 1024).await, PartRecording::TooLarge, "over 400 KB alone");
    assert_eq!(record(1, 150 * 1024).await, PartRecording::Recorded);
    assert_eq!(record(2, 150 * 1024).await, PartRecording::Recorded);
    assert_eq!(record(3, 150 * 1024).await, PartRecording::TooLarge, "450 KB with the results before it");
    let fan_ins = fan_ins.into_inner().unwrap();
    assert_eq!(fan_ins.len(), 1, "the job ended");
    assert_eq!(fan_ins[0].results.keys().copied().collect::<Vec<_>>(), [1, 2]);
    let codes: Vec<(u32, &str)> = fan_ins[0].failed.iter().map(|(i, f)| (*i, f.code.as_str())).collect();
    assert_eq!(codes, [(0, "PartResultTooLarge"), (3, "PartResultTooLarge")]);
    let status = status(&fanout, "job-big").await;
    assert_eq!((status.status, status.completed, status.failed), (JobStatus::Completed, 2, 2));
}

/// A dispatcher that accepts its first batch and then fails (a start
/// interrupted after some parts were sent).
struct FailsAfterFirstBatch {
    inner: Arc<dyn Dispatcher>,
    batches: AtomicUsize,
}

impl Dispatcher for FailsAfterFirstBatch {
    fn send_batch<'a>(&'a self, messages: &'a [PartMessage]) -> BoxFuture<'a, Result<Vec<u32>, DispatchError>> {
        if self.batches.fetch_add(1, Ordering::SeqCst) == 0 {
            return self.inner.send_batch(messages);
        }
        Box::pin(std::future::ready(Err(DispatchError::new("the queue is unreachable"))))
    }
}

/// A start interrupted after some of its parts were sent: starting the
/// same job again sends them all (the early ones twice), each part counts
/// once; a third start sends nothing; the same id with other parts is a
/// conflict.
pub async fn an_interrupted_start_is_finished_by_starting_again<Q: PipelineQueue>(rig: Rig<Q>) {
    let failing = Arc::new(FailsAfterFirstBatch { inner: rig.dispatcher.clone(), batches: AtomicUsize::new(0) });
    let interrupted = rig.fanout().dispatcher(failing);
    let job = || NewJob::new("job-25", "25 parts".to_owned());
    let parts: Vec<u64> = (0..25).collect();
    let err = interrupted.start(job(), &parts).await.expect_err("the queue failed");
    assert!(matches!(err, FanoutError::Dispatch(_)), "{err:?}");
    assert!(!fanout_job(&rig, "job-25").await.dispatched);

    let fanout = rig.fanout();
    assert_eq!(fanout.start(job(), &parts).await.expect("start"), Started::Redispatched);
    assert_eq!(fanout.start(job(), &parts).await.expect("start"), Started::AlreadyStarted);
    let conflict = fanout.start(job(), &parts[..24]).await.expect_err("other parts");
    assert_eq!(halo::IntoError::into_error(conflict).code(), "JobConflict");

    let world = World::default();
    consume(&fanout, &world, &*rig.queue, Acks::Once, |_| false, || !world.fan_ins.lock().unwrap().is_empty()).await;
    let fan_ins = world.fan_ins();
    assert_eq!(fan_ins.len(), 1);
    assert_eq!(fan_ins[0].results, doubles(0..25));
    assert_eq!(world.deliveries.lock().unwrap().len(), 35, "10 parts were sent twice");
    assert_eq!(status(&fanout, "job-25").await.completed, 25);
}

async fn fanout_job<Q: PipelineQueue>(rig: &Rig<Q>, job_id: &str) -> JobRecord {
    rig.store.get(job_id).await.expect("get").expect("the job exists")
}

/// Writes one `#[test]` per scenario of [`crate::pipeline`], each on a
/// fresh rig from `$rig` (an async fn returning a [`Rig`]).
#[macro_export]
macro_rules! fanout_pipeline_tests {
    ($rig:expr) => {
        $crate::fanout_pipeline_tests!(@tests $rig;
            hundred_parts_on_four_consumers_every_message_twice,
            a_failing_part_is_collected,
            a_failing_part_fails_fast,
            a_crash_around_the_recording_counts_once,
            the_sweeper_ends_an_overdue_job,
            the_sweeper_retries_stuck_fan_ins,
            the_last_two_parts_at_once_run_one_fan_in,
            an_interrupted_start_is_finished_by_starting_again,
            a_result_too_large_records_the_part_as_failed,
        );
    };
    (@tests $rig:expr; $($scenario:ident),+ $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                $crate::contracts::block_on(async { $crate::pipeline::$scenario(($rig)().await).await });
            }
        )+
    };
}
