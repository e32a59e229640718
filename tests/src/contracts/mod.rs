//! Behaviour suites for halo's store traits: run them against your own
//! store (Redis, Postgres, …) to check it keeps the promises halo relies on.
//!
//! | suite | trait | halo's stores |
//! | --- | --- | --- |
//! | [`idempotency`] | [`halo::idempotency::IdempotencyStore`] | `MemoryIdempotencyStore`, `DynamoDbIdempotencyStore` |
//! | [`saga_log`] | [`halo::saga::log::SagaLog`] | `MemorySagaLog`, `DynamoDbSagaLog` |
//! | [`breaker`] | [`halo::breaker::store::BreakerStore`] | `MemoryBreakerStore`, `DynamoDbBreakerStore` |
//! | [`fanout`] | [`halo::fanout::store::FanoutStore`] | `MemoryFanoutStore`, `DynamoDbFanoutStore` |
//!
//! Each suite is a list of behaviours, each a public `async fn` that takes a
//! fresh, empty store and panics with a message naming what broke. Time is
//! passed to the stores explicitly (or through injected clocks): no
//! behaviour sleeps.
//!
//! The easiest way to run a suite is [`store_contract_tests!`](crate::store_contract_tests),
//! which writes one `#[test]` per behaviour, so each failure is reported on
//! its own, under the behaviour's name:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use halo::idempotency::MemoryIdempotencyStore;
//!
//! /// A fresh, empty store for each behaviour (here halo's own; yours
//! /// would connect to its database and pick a unique table or prefix).
//! async fn my_store() -> Arc<MemoryIdempotencyStore> {
//!     Arc::new(MemoryIdempotencyStore::new())
//! }
//!
//! halo_test_support::store_contract_tests!(idempotency, my_store);
//! ```
//!
//! [`idempotency::run_all`], [`saga_log::run_all`], [`breaker::run_all`] and [`fanout::run_all`]
//! run a whole suite inside one test instead, and [`idempotency::BEHAVIOURS`]
//! (and the others) name every behaviour of a suite.

use std::future::Future;

pub mod breaker;
pub mod fanout;
pub mod idempotency;
pub mod saga_log;

/// Runs `behaviour` to completion on a new multi-threaded tokio runtime
/// (two workers, I/O and timers enabled): what each test written by
/// [`store_contract_tests!`](crate::store_contract_tests) does.
pub fn block_on<F: Future>(behaviour: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(behaviour)
}

/// Runs one behaviour of `suite` as a task and, if it panics, panics again
/// with the suite's and the behaviour's names in front of its message (what
/// the `run_all` functions do for each behaviour).
pub async fn run_behaviour<F>(suite: &str, name: &str, behaviour: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match tokio::spawn(behaviour).await {
        Ok(()) => {}
        Err(err) if err.is_panic() => {
            let payload = err.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            panic!("the {suite} contract behaviour `{name}` failed: {message}");
        }
        Err(err) => panic!("the {suite} contract behaviour `{name}` did not finish: {err}"),
    }
}

/// Runs `n` tasks, `task(0)` to `task(n - 1)`, released at once by a
/// barrier (the concurrent behaviours), and returns their outputs in order.
pub(crate) async fn at_once<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, task) = (barrier.clone(), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                task.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(n);
    for task in tasks {
        outputs.push(task.await.expect("a concurrent task"));
    }
    outputs
}

/// Writes one `#[test]` per behaviour of a store contract suite, each on a
/// fresh store made by the second argument.
///
/// The first argument names the suite: `idempotency`
/// ([`halo::idempotency::IdempotencyStore`]), `saga_log` ([`halo::saga::log::SagaLog`]),
/// `breaker` ([`halo::breaker::store::BreakerStore`]) or `fanout`
/// ([`halo::fanout::store::FanoutStore`]). The second is anything
/// callable with no argument that returns a future of an `Arc` of the store
/// (an `async fn`, or a closure returning an `async` block); it is called
/// once per behaviour and must give a store that holds nothing (a new table,
/// a new key prefix, a flushed database).
///
/// The tests are named after the behaviours (see each suite's
/// `BEHAVIOURS`); invoke the macro inside a `mod` per store to run a suite
/// against several stores in one file. Each test runs on its own
/// multi-threaded tokio runtime ([`contracts::block_on`](crate::contracts::block_on)).
///
/// ```no_run
/// use std::sync::Arc;
///
/// use halo::breaker::MemoryBreakerStore;
///
/// async fn breaker_store() -> Arc<MemoryBreakerStore> {
///     Arc::new(MemoryBreakerStore::new())
/// }
///
/// mod breaker {
///     halo_test_support::store_contract_tests!(breaker, super::breaker_store);
/// }
///
/// mod saga_log {
///     halo_test_support::store_contract_tests!(saga_log, || async {
///         std::sync::Arc::new(halo::saga::MemorySagaLog::new())
///     });
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_contract_tests {
    (idempotency, $make:expr $(,)?) => {
        $crate::__idempotency_contract! { tests $make }
    };
    (saga_log, $make:expr $(,)?) => {
        $crate::__saga_log_contract! { tests $make }
    };
    (breaker, $make:expr $(,)?) => {
        $crate::__breaker_contract! { tests $make }
    };
    (fanout, $make:expr $(,)?) => {
        $crate::__fanout_contract! { tests $make }
    };
}

/// The expansions of a suite's behaviour list: its tests (`tests`), and its
/// `BEHAVIOURS` and `run_all` (`items`); each suite passes its list, so the
/// list is written once.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract {
    (tests $make:expr ; $suite:ident, $store:ty ; $($behaviour:ident),+ $(,)?) => {
        $(
            #[test]
            fn $behaviour() {
                $crate::contracts::block_on(async {
                    let store: ::std::sync::Arc<$store> = ($make)().await;
                    $crate::contracts::$suite::$behaviour(store).await;
                });
            }
        )+
    };
    (items ; $suite:ident, $store:ty ; $($behaviour:ident),+ $(,)?) => {
        /// The names of every behaviour of this suite, in the order
        /// [`run_all`] runs them (the names of the tests
        /// [`store_contract_tests!`](crate::store_contract_tests) writes).
        pub const BEHAVIOURS: &[&str] = &[$(stringify!($behaviour)),+];

        /// Runs every behaviour of this suite, each on a fresh, empty store
        /// from `make_store`, and panics at the first that fails, naming it
        /// (see [`run_behaviour`](crate::contracts::run_behaviour)).
        pub async fn run_all<F, Fut>(make_store: F)
        where
            F: Fn() -> Fut,
            Fut: ::std::future::Future<Output = ::std::sync::Arc<$store>>,
        {
            $(
                $crate::contracts::run_behaviour(
                    stringify!($suite),
                    stringify!($behaviour),
                    $crate::contracts::$suite::$behaviour(make_store().await),
                )
                .await;
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use halo::breaker::MemoryBreakerStore;
    use halo::breaker::store::BreakerStore;
    use halo::fanout::MemoryFanoutStore;
    use halo::fanout::store::FanoutStore;
    use halo::idempotency::{IdempotencyStore, MemoryIdempotencyStore};
    use halo::saga::MemorySagaLog;
    use halo::saga::log::SagaLog;

    use super::*;

    #[test]
    fn run_all_runs_every_suite_on_halos_memory_stores() {
        block_on(async {
            idempotency::run_all(|| async { Arc::new(MemoryIdempotencyStore::new()) as Arc<dyn IdempotencyStore> })
                .await;
            saga_log::run_all(|| async { Arc::new(MemorySagaLog::new()) as Arc<dyn SagaLog> }).await;
            breaker::run_all(|| async { Arc::new(MemoryBreakerStore::new()) as Arc<dyn BreakerStore> }).await;
            fanout::run_all(|| async { Arc::new(MemoryFanoutStore::new()) as Arc<dyn FanoutStore> }).await;
        });
    }

    #[test]
    fn behaviour_names_are_unique_per_suite() {
        for names in [idempotency::BEHAVIOURS, saga_log::BEHAVIOURS, breaker::BEHAVIOURS, fanout::BEHAVIOURS] {
            let mut sorted = names.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{names:?}");
        }
        assert_eq!(
            (
                idempotency::BEHAVIOURS.len(),
                saga_log::BEHAVIOURS.len(),
                breaker::BEHAVIOURS.len(),
                fanout::BEHAVIOURS.len()
            ),
            (14, 27, 16, 20)
        );
    }

    #[test]
    fn a_failing_behaviour_is_reported_by_suite_and_name() {
        let failure = std::thread::spawn(|| {
            block_on(run_behaviour("breaker", "first_publish_creates_the_record", async {
                panic!("the record is lost")
            }))
        })
        .join()
        .expect_err("the behaviour fails");
        let message = failure.downcast_ref::<String>().expect("a formatted message");
        assert_eq!(
            message,
            "the breaker contract behaviour `first_publish_creates_the_record` failed: the record is lost"
        );
    }
}
