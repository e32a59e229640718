//! Retries with exponential backoff and full jitter, bounded in attempts and
//! in time. The one retry utility of halo: the HTTP client, saga
//! compensations, idempotency waits, the fan-out's fan-in and batch
//! processing all use it. The guide's chapter on timeouts and outgoing
//! calls ([`crate::timeout`]) shows it with the budget it respects.

use std::future::Future;
use std::time::{Duration, Instant};

/// A retry policy: how many attempts, how long to wait between them, and
/// an optional deadline that no wait may cross.
///
/// Delays use "full jitter": before retry `n` (1-based) the wait is a random
/// duration in `[0, min(max_delay, initial_delay * multiplier^(n-1))]`, which
/// spreads retries of many clients apart.
///
/// ```
/// use std::time::Duration;
/// use halo::retry::Backoff;
///
/// let policy = Backoff::new(4).initial_delay(Duration::from_millis(50)).max_delay(Duration::from_secs(1));
/// assert_eq!(policy.ceiling(1), Duration::from_millis(50));
/// assert_eq!(policy.ceiling(3), Duration::from_millis(200));
/// assert!(policy.delay(3) <= Duration::from_millis(200));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    multiplier: f64,
    jitter: bool,
    deadline: Option<Instant>,
}

impl Default for Backoff {
    /// 3 attempts, 100 ms initial delay, doubling, at most 5 s, full jitter.
    fn default() -> Self {
        Backoff::new(3)
    }
}

impl Backoff {
    /// `max_attempts` attempts in all (1 means no retry), 100 ms initial
    /// delay, doubling, at most 5 s, full jitter, no deadline.
    pub fn new(max_attempts: u32) -> Backoff {
        Backoff {
            max_attempts: max_attempts.max(1),
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: true,
            deadline: None,
        }
    }

    /// The same policy with another attempt limit (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, max_attempts: u32) -> Backoff {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The delay ceiling before the first retry.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Backoff {
        self.initial_delay = delay;
        self
    }

    /// The largest delay ceiling.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Backoff {
        self.max_delay = delay;
        self
    }

    /// How much the ceiling grows per retry (at least 1.0).
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Backoff {
        self.multiplier = if multiplier.is_finite() { multiplier.max(1.0) } else { 1.0 };
        self
    }

    /// Waits exactly the ceiling instead of a random part of it (for
    /// deterministic schedules such as Step Functions' `Retry`).
    #[must_use]
    pub fn without_jitter(mut self) -> Backoff {
        self.jitter = false;
        self
    }

    /// No retry starts after `deadline`, and no wait crosses it.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Backoff {
        self.deadline = Some(deadline);
        self
    }

    /// Bounds the whole retry loop to `budget` from now.
    #[must_use]
    pub fn budget(self, budget: Duration) -> Backoff {
        self.deadline(Instant::now() + budget)
    }

    /// The maximum number of attempts.
    #[cfg(feature = "batch")]
    pub(crate) fn attempt_limit(&self) -> u32 {
        self.max_attempts
    }

    /// The delay ceiling before retry `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = self.multiplier.powi(retry.saturating_sub(1).min(64) as i32);
        let ceiling = self.initial_delay.as_secs_f64() * factor;
        if !ceiling.is_finite() || ceiling >= self.max_delay.as_secs_f64() {
            self.max_delay
        } else {
            Duration::from_secs_f64(ceiling)
        }
    }

    /// The (jittered) delay before retry `retry` (1-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        if self.jitter { ceiling.mul_f64(fastrand::f64()) } else { ceiling }
    }

    /// The wait before retry `retry`, or `None` when no retry may start:
    /// attempts used up, or the wait would cross the deadline.
    pub(crate) fn next_wait(&self, retry: u32) -> Option<Duration> {
        if retry >= self.max_attempts {
            return None;
        }
        let delay = self.delay(retry);
        match self.deadline {
            Some(deadline) if Instant::now() + delay >= deadline => None,
            _ => Some(delay),
        }
    }
}

/// What the retry loop saw: the final result and how many attempts ran.
#[derive(Debug)]
#[non_exhaustive]
pub struct Retried<T, E> {
    /// The last attempt's result.
    pub result: Result<T, E>,
    /// Attempts made (at least 1).
    pub attempts: u32,
}

/// Runs `operation` (given the 1-based attempt number) until it succeeds,
/// `should_retry` says an error is final, or `policy` allows no more
/// attempts; waits between attempts as the policy says.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use halo::retry::{Backoff, retry};
///
/// let policy = Backoff::new(5).initial_delay(Duration::from_millis(1));
/// let outcome = retry(&policy, |attempt| async move {
///     if attempt < 3 { Err("flaky") } else { Ok(attempt) }
/// }, |_err| true).await;
/// assert_eq!(outcome.result, Ok(3));
/// assert_eq!(outcome.attempts, 3);
/// # });
/// ```
pub async fn retry<T, E, F, Fut>(
    policy: &Backoff,
    mut operation: F,
    mut should_retry: impl FnMut(&E) -> bool,
) -> Retried<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        let result = operation(attempt).await;
        let err = match result {
            Ok(value) => return Retried { result: Ok(value), attempts: attempt },
            Err(err) => err,
        };
        if !should_retry(&err) {
            return Retried { result: Err(err), attempts: attempt };
        }
        match policy.next_wait(attempt) {
            Some(wait) => {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            None => return Retried { result: Err(err), attempts: attempt },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_exponentially_up_to_the_cap() {
        let policy = Backoff::new(10).initial_delay(Duration::from_millis(100)).max_delay(Duration::from_millis(750));
        let ceilings: Vec<u64> = (1..=5).map(|n| policy.ceiling(n).as_millis() as u64).collect();
        assert_eq!(ceilings, vec![100, 200, 400, 750, 750]);
    }

    #[test]
    fn jittered_delays_stay_within_the_ceiling_and_vary() {
        let policy = Backoff::new(10).initial_delay(Duration::from_millis(100));
        let delays: Vec<Duration> = (0..50).map(|_| policy.delay(2)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(200)));
        assert!(delays.iter().any(|d| *d != delays[0]), "full jitter varies");
        assert_eq!(policy.without_jitter().delay(2), Duration::from_millis(200));
    }

    #[test]
    fn no_retry_past_attempts_or_deadline() {
        let policy = Backoff::new(3);
        assert!(policy.next_wait(2).is_some());
        assert!(policy.next_wait(3).is_none());
        let tight =
            Backoff::new(3).without_jitter().initial_delay(Duration::from_secs(1)).budget(Duration::from_millis(10));
        assert!(tight.next_wait(1).is_none(), "a wait that crosses the deadline is refused");
    }

    #[tokio::test]
    async fn stops_at_a_final_error() {
        let policy = Backoff::new(5).initial_delay(Duration::from_millis(1));
        let outcome = retry(&policy, |_| async { Err::<(), _>("fatal") }, |_| false).await;
        assert_eq!(outcome.attempts, 1);
        let outcome = retry(&policy, |_| async { Err::<(), _>("flaky") }, |_| true).await;
        assert_eq!(outcome.attempts, 5);
    }
}
