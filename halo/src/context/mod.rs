//! The per-invocation context, [`Ctx`].
//!
//! A `Ctx` is built by the runtime for every invocation and is reachable from
//! anywhere inside it: as the handler's `&Ctx` parameter and through
//! [`Ctx::current`] (a tokio task-local), which is how the JSON logger adds
//! `function_request_id`, `cold_start` and friends to every line.

mod invocation;
mod layer;
mod replay;

/// The default safety margin before the deadline (200 ms; documented on
/// [`Options::timeout_margin`](crate::Options::timeout_margin)).
pub(crate) const DEFAULT_TIMEOUT_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

pub use invocation::Invocation;
pub(crate) use layer::ContextLayer;
#[cfg(feature = "durable-execution")]
pub(crate) use replay::DurableRun;

use crate::lock::lock;
use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::FunctionInfo;
use crate::correlation::{Correlation, TrustedSources};

tokio::task_local! {
    static CURRENT: Ctx;
}

/// Per-invocation context: ids, deadline, cold start, correlation id.
///
/// Cheap to clone (one `Arc`). Every field belongs to one invocation only:
/// nothing set on a `Ctx` survives into the next invocation of a warm
/// container, because every invocation gets a fresh one.
///
/// ```
/// use std::time::Duration;
///
/// let ctx = halo::Ctx::for_test();
/// assert!(ctx.remaining() > Duration::from_secs(2));
/// assert_eq!(ctx.function_name(), "test-function");
/// ```
#[derive(Clone)]
pub struct Ctx {
    inner: Arc<Inner>,
}

struct Inner {
    request_id: String,
    invoked_function_arn: String,
    xray_trace_id: Option<String>,
    deadline: Instant,
    deadline_epoch_ms: u64,
    cold_start: bool,
    function: Arc<FunctionInfo>,
    timeout_margin: Duration,
    correlation: OnceLock<Correlation>,
    trusted_debug_sources: AtomicU16,
    log_keys: Mutex<Vec<(String, serde_json::Value)>>,
    extensions: Mutex<Vec<(TypeId, Box<dyn Any + Send>)>>,
    /// For a batch record's context: the invocation's.
    invocation: Option<Ctx>,
    /// The durable execution the invocation continues, if it is one's.
    durable: OnceLock<replay::DurableRun>,
}

impl Ctx {
    /// Starts building a context; the runtime does this for every invocation.
    pub fn builder(request_id: impl Into<String>) -> CtxBuilder {
        CtxBuilder {
            request_id: request_id.into(),
            invoked_function_arn: String::new(),
            xray_trace_id: None,
            deadline_epoch_ms: None,
            cold_start: false,
            function: None,
            timeout_margin: DEFAULT_TIMEOUT_MARGIN,
        }
    }

    /// A context for unit tests: request id `test-request`, function
    /// `test-function`, a 3 s deadline, not a cold start.
    pub fn for_test() -> Ctx {
        Ctx::builder("test-request")
            .function(Arc::new(FunctionInfo::for_test()))
            .timeout(Duration::from_secs(3))
            .build()
    }

    /// The context of the invocation this code runs in, if any.
    ///
    /// Inside a handler (and in every future it awaits) this returns the
    /// invocation's context; outside an invocation (init code, a task spawned
    /// with plain `tokio::spawn`) it returns `None`. Use [`Ctx::scope`] to
    /// carry the context into spawned tasks.
    pub fn current() -> Option<Ctx> {
        CURRENT.try_with(Ctx::clone).ok()
    }

    /// Calls `f` with the current context without cloning it.
    pub(crate) fn with_current<T>(f: impl FnOnce(Option<&Ctx>) -> T) -> T {
        let mut f = Some(f);
        match CURRENT.try_with(|ctx| (f.take().expect("called once"))(Some(ctx))) {
            Ok(value) => value,
            Err(_) => (f.take().expect("not called yet"))(None),
        }
    }

    /// Runs `future` with this context as the current one.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let ctx = halo::Ctx::for_test();
    /// let seen = ctx.clone().scope(async { halo::Ctx::current().unwrap().request_id().to_owned() }).await;
    /// assert_eq!(seen, "test-request");
    /// # });
    /// ```
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }

    /// A context for one record of this invocation's batch: the same ids,
    /// function and deadline, this invocation's log keys, but its own
    /// correlation slot, log keys and debug buffer. Batch processing
    /// ([`crate::batch`]) runs each record in one, so each record's log
    /// lines carry its own correlation id.
    #[must_use]
    #[cfg(any(test, feature = "batch"))]
    pub(crate) fn for_record(&self) -> Ctx {
        let inner = &self.inner;
        Ctx {
            inner: Arc::new(Inner {
                request_id: inner.request_id.clone(),
                invoked_function_arn: inner.invoked_function_arn.clone(),
                xray_trace_id: inner.xray_trace_id.clone(),
                deadline: inner.deadline,
                deadline_epoch_ms: inner.deadline_epoch_ms,
                cold_start: inner.cold_start,
                function: inner.function.clone(),
                timeout_margin: inner.timeout_margin,
                correlation: OnceLock::new(),
                trusted_debug_sources: AtomicU16::new(self.trusted_debug_sources().bits()),
                log_keys: Mutex::new(self.log_keys()),
                extensions: Mutex::new(Vec::new()),
                invocation: Some(self.invocation_root().clone()),
                durable: self.inner.durable.clone(),
            }),
        }
    }

    /// The invocation's own context: this one, or for a batch record's
    /// context ([`Ctx::for_record`]) the invocation's. State that belongs
    /// to the whole invocation (its metrics) lives there.
    pub(crate) fn invocation_root(&self) -> &Ctx {
        self.inner.invocation.as_ref().unwrap_or(self)
    }

    /// The AWS request id of this invocation.
    pub fn request_id(&self) -> &str {
        &self.inner.request_id
    }

    /// The ARN the function was invoked with (may carry a version or alias).
    pub fn invoked_function_arn(&self) -> &str {
        &self.inner.invoked_function_arn
    }

    /// The X-Ray trace header of this invocation, when tracing is active.
    pub fn xray_trace_id(&self) -> Option<&str> {
        self.inner.xray_trace_id.as_deref()
    }

    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub fn function_name(&self) -> &str {
        &self.inner.function.name
    }

    /// The function's version (`AWS_LAMBDA_FUNCTION_VERSION`).
    pub fn function_version(&self) -> &str {
        &self.inner.function.version
    }

    /// The function's memory size in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub fn function_memory_size(&self) -> u32 {
        self.inner.function.memory_size
    }

    /// Static facts about the function (name, version, memory, service).
    pub fn function(&self) -> &FunctionInfo {
        &self.inner.function
    }

    /// True only for the first invocation a container serves.
    pub fn cold_start(&self) -> bool {
        self.inner.cold_start
    }

    /// The instant Lambda stops this invocation.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline
    }

    /// The deadline as milliseconds since the Unix epoch, as Lambda sent it.
    pub fn deadline_epoch_ms(&self) -> u64 {
        self.inner.deadline_epoch_ms
    }

    /// Time left before Lambda stops this invocation (zero once past it).
    pub fn remaining(&self) -> Duration {
        self.inner.deadline.saturating_duration_since(Instant::now())
    }

    /// The safety margin kept before the deadline: the handler is stopped
    /// and a timeout error answered this long before Lambda would kill it.
    pub fn timeout_margin(&self) -> Duration {
        self.inner.timeout_margin
    }

    /// The time budget left for work, outgoing calls included: the remaining
    /// time minus the safety margin (zero once past it).
    pub fn budget(&self) -> Duration {
        self.remaining().saturating_sub(self.inner.timeout_margin)
    }

    /// The instant at which the budget runs out (deadline minus margin).
    pub(crate) fn budget_deadline(&self) -> Instant {
        self.inner.deadline.checked_sub(self.inner.timeout_margin).unwrap_or(self.inner.deadline)
    }

    /// The correlation id of this invocation, once it has been set.
    pub fn correlation_id(&self) -> Option<&str> {
        self.inner.correlation.get().map(|c| c.id.as_str())
    }

    /// The correlation of this invocation (id, debug-sampling decision,
    /// caller, event source), once it has been decided.
    pub fn correlation(&self) -> Option<&Correlation> {
        self.inner.correlation.get()
    }

    /// Sets the correlation; only the first call has an effect. Returns
    /// `false` when it was already set.
    pub fn set_correlation(&self, correlation: Correlation) -> bool {
        self.inner.correlation.set(correlation).is_ok()
    }

    /// Sets just the correlation id (not sampled, no caller); see
    /// [`Ctx::set_correlation`].
    pub fn set_correlation_id(&self, id: impl Into<String>) -> bool {
        self.set_correlation(Correlation::new(id))
    }

    /// Whether debug lines of this invocation are emitted (it was sampled,
    /// here or upstream).
    pub fn debug_sampled(&self) -> bool {
        self.inner.correlation.get().is_some_and(|c| c.debug)
    }

    /// The sources whose `debug-log-enabled` flag this invocation honours
    /// (set by the correlation layer; batch records follow it).
    #[cfg(any(test, feature = "batch"))]
    pub(crate) fn trusted_debug_sources(&self) -> TrustedSources {
        TrustedSources::from_bits(self.inner.trusted_debug_sources.load(Ordering::Relaxed))
    }

    pub(crate) fn set_trusted_debug_sources(&self, trusted: TrustedSources) {
        self.inner.trusted_debug_sources.store(trusted.bits(), Ordering::Relaxed);
    }

    /// Calls `f` with this invocation's value of type `T`, created with
    /// `T::default()` on first use: per-invocation state of a library or of
    /// your own code (halo's logger keeps the held-back debug lines there).
    /// Each invocation, and each batch record's context, starts without
    /// any, so nothing carries over to the next invocation.
    pub(crate) fn with_extension<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut extensions = lock(&self.inner.extensions);
        let index = match extensions.iter().position(|(id, _)| *id == TypeId::of::<T>()) {
            Some(index) => index,
            None => {
                extensions.push((TypeId::of::<T>(), Box::new(T::default())));
                extensions.len() - 1
            }
        };
        match extensions[index].1.downcast_mut::<T>() {
            Some(value) => f(value),
            // Unreachable: the slot was found by T's TypeId.
            None => f(&mut T::default()),
        }
    }

    /// Adds a key to every later log line of this invocation (and only of
    /// this invocation). A key added twice keeps its last value.
    ///
    /// ```
    /// let ctx = halo::Ctx::for_test();
    /// ctx.append_log_key("order_id", "o-42"); // on every later line: "order_id":"o-42"
    /// ```
    pub fn append_log_key(&self, key: impl Into<String>, value: impl Into<serde_json::Value>) {
        let key = key.into();
        let value = value.into();
        let mut keys = lock(&self.inner.log_keys);
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => keys.push((key, value)),
        }
    }

    /// The ARN of the Lambda durable execution this invocation continues
    /// (a handler run by `halo::durable_execution`, feature
    /// `durable-execution`); `None` for an ordinary invocation.
    ///
    /// ```
    /// assert_eq!(halo::Ctx::for_test().durable_execution_arn(), None);
    /// ```
    pub fn durable_execution_arn(&self) -> Option<&str> {
        self.inner.durable.get().map(|run| &*run.execution_arn)
    }

    /// Whether the code running now replays a durable execution's recorded
    /// operations: its log lines and metrics are dropped, as they were
    /// written when it first ran. Always `false` outside a durable
    /// execution.
    ///
    /// ```
    /// assert!(!halo::Ctx::for_test().is_replaying());
    /// ```
    pub fn is_replaying(&self) -> bool {
        self.inner.durable.get().is_some_and(|run| (run.replaying)())
    }

    /// Marks the context as an invocation of a durable execution; only the
    /// first call has an effect.
    #[cfg(feature = "durable-execution")]
    pub(crate) fn set_durable_run(&self, run: replay::DurableRun) {
        let _ = self.inner.durable.set(run);
    }

    /// The keys added with [`Ctx::append_log_key`], in insertion order.
    #[cfg(any(test, feature = "batch"))]
    pub(crate) fn log_keys(&self) -> Vec<(String, serde_json::Value)> {
        lock(&self.inner.log_keys).clone()
    }

    pub(crate) fn visit_log_keys(&self, mut f: impl FnMut(&str, &serde_json::Value)) {
        for (key, value) in lock(&self.inner.log_keys).iter() {
            f(key, value);
        }
    }
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("request_id", &self.inner.request_id)
            .field("function_name", &self.inner.function.name)
            .field("cold_start", &self.inner.cold_start)
            .field("remaining", &self.remaining())
            .field("correlation_id", &self.correlation_id())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Ctx`]; see [`Ctx::builder`].
#[derive(Debug)]
pub struct CtxBuilder {
    request_id: String,
    invoked_function_arn: String,
    xray_trace_id: Option<String>,
    deadline_epoch_ms: Option<u64>,
    cold_start: bool,
    function: Option<Arc<FunctionInfo>>,
    timeout_margin: Duration,
}

impl CtxBuilder {
    /// The invoked function ARN.
    #[must_use]
    pub fn invoked_function_arn(mut self, arn: impl Into<String>) -> Self {
        self.invoked_function_arn = arn.into();
        self
    }

    /// The X-Ray trace header.
    #[must_use]
    pub fn xray_trace_id(mut self, id: Option<String>) -> Self {
        self.xray_trace_id = id;
        self
    }

    /// The deadline, in milliseconds since the Unix epoch (what Lambda sends).
    #[must_use]
    pub fn deadline_epoch_ms(mut self, ms: u64) -> Self {
        self.deadline_epoch_ms = Some(ms);
        self
    }

    /// A deadline `timeout` from now.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline_epoch_ms = Some(epoch_ms_now().saturating_add(timeout.as_millis() as u64));
        self
    }

    /// Whether this is the first invocation of the container.
    #[must_use]
    pub fn cold_start(mut self, cold_start: bool) -> Self {
        self.cold_start = cold_start;
        self
    }

    /// The safety margin before the deadline (default 200 ms, see
    /// [`crate::timeout`]).
    #[must_use]
    pub fn timeout_margin(mut self, margin: Duration) -> Self {
        self.timeout_margin = margin;
        self
    }

    /// Static facts about the function; defaults to [`FunctionInfo::from_env`].
    #[must_use]
    pub fn function(mut self, function: Arc<FunctionInfo>) -> Self {
        self.function = Some(function);
        self
    }

    /// Builds the context. Without a deadline it gets 3 s from now.
    pub fn build(self) -> Ctx {
        let now_ms = epoch_ms_now();
        let deadline_epoch_ms = self.deadline_epoch_ms.unwrap_or(now_ms + 3_000);
        let deadline = Instant::now() + Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Ctx {
            inner: Arc::new(Inner {
                request_id: self.request_id,
                invoked_function_arn: self.invoked_function_arn,
                xray_trace_id: self.xray_trace_id,
                deadline,
                deadline_epoch_ms,
                cold_start: self.cold_start,
                function: self.function.unwrap_or_else(FunctionInfo::shared),
                timeout_margin: self.timeout_margin,
                correlation: OnceLock::new(),
                trusted_debug_sources: AtomicU16::new(TrustedSources::default().bits()),
                log_keys: Mutex::new(Vec::new()),
                extensions: Mutex::new(Vec::new()),
                invocation: None,
                durable: OnceLock::new(),
            }),
        }
    }
}

/// What a new invocation's context is made from. The Lambda runtime, the
/// local CLI and the axum adapter's serve mode all build their contexts
/// with [`Ctx::for_invocation`], so the function facts, the timeout margin
/// and the cold-start rule are the same for every way in.
pub(crate) struct InvocationStart {
    pub(crate) request_id: String,
    pub(crate) deadline_epoch_ms: u64,
    /// `None` outside Lambda: a local ARN naming the function.
    pub(crate) invoked_function_arn: Option<String>,
    pub(crate) xray_trace_id: Option<String>,
    pub(crate) timeout_margin: Duration,
}

impl Ctx {
    /// The context of a new invocation: the container's [`FunctionInfo`],
    /// and the cold start taken (true for the container's first
    /// invocation only, never under provisioned concurrency).
    pub(crate) fn for_invocation(start: InvocationStart) -> Ctx {
        Ctx::starting(start, take_cold_start())
    }

    /// The context of an invocation of a durable execution: one that
    /// resumes the execution is never its function's cold start (the
    /// execution's first invocation reported it, or was warm).
    #[cfg(feature = "durable-execution")]
    pub(crate) fn for_durable_invocation(start: InvocationStart, resumed: bool) -> Ctx {
        let cold_start = take_cold_start();
        Ctx::starting(start, cold_start && !resumed)
    }

    fn starting(start: InvocationStart, cold_start: bool) -> Ctx {
        let function = FunctionInfo::shared();
        let arn = start
            .invoked_function_arn
            .unwrap_or_else(|| format!("arn:aws:lambda:local:000000000000:function:{}", function.name));
        Ctx::builder(start.request_id)
            .invoked_function_arn(arn)
            .xray_trace_id(start.xray_trace_id)
            .deadline_epoch_ms(start.deadline_epoch_ms)
            .cold_start(cold_start)
            .function(function)
            .timeout_margin(start.timeout_margin)
            .build()
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn epoch_ms_now() -> u64 {
    crate::platform::Clock::now_ms(&crate::platform::SystemClock)
}

static COLD: AtomicBool = AtomicBool::new(true);

/// Returns `true` exactly once per process: for the first invocation, unless
/// the container was initialised for provisioned concurrency (then never).
pub(crate) fn take_cold_start() -> bool {
    let first = COLD.swap(false, Ordering::Relaxed);
    first && !FunctionInfo::shared().provisioned
}

/// Runs `f` with `ctx` current (the synchronous counterpart of [`scope`]).
pub(crate) fn sync_scope<T>(ctx: Ctx, f: impl FnOnce() -> T) -> T {
    CURRENT.sync_scope(ctx, f)
}

/// Runs `future` with `ctx` current.
pub(crate) fn scope<F: Future>(ctx: Ctx, future: F) -> tokio::task::futures::TaskLocalFuture<Ctx, F> {
    CURRENT.scope(ctx, future)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn current_is_only_set_inside_scope() {
        assert!(Ctx::current().is_none());
        let ctx = Ctx::for_test();
        let inside = ctx.scope(async { Ctx::current().map(|c| c.request_id().to_owned()) }).await;
        assert_eq!(inside.as_deref(), Some("test-request"));
        assert!(Ctx::current().is_none());
    }

    #[test]
    fn correlation_id_is_set_once() {
        let ctx = Ctx::for_test();
        assert_eq!(ctx.correlation_id(), None);
        assert!(ctx.set_correlation_id("a"));
        assert!(!ctx.set_correlation_id("b"));
        assert_eq!(ctx.correlation_id(), Some("a"));
    }

    #[test]
    fn deadline_from_epoch_ms_gives_remaining_time() {
        let ctx = Ctx::builder("r").deadline_epoch_ms(epoch_ms_now() + 10_000).build();
        let left = ctx.remaining();
        assert!(left > Duration::from_secs(9) && left <= Duration::from_secs(10), "{left:?}");
        let past = Ctx::builder("r").deadline_epoch_ms(1).build();
        assert_eq!(past.remaining(), Duration::ZERO);
    }

    #[test]
    fn appended_keys_replace_same_name() {
        let ctx = Ctx::for_test();
        ctx.append_log_key("a", 1);
        ctx.append_log_key("b", 2);
        ctx.append_log_key("a", 3);
        assert_eq!(ctx.log_keys(), vec![("a".into(), 3.into()), ("b".into(), 2.into())]);
    }
}
