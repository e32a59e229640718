//! The local state machine: closed, open, half-open. Pure: time comes in
//! as epoch milliseconds, no I/O.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::policy::BreakerPolicy;

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls flow; failures are counted.
    Closed,
    /// Calls fail at once until `open_until`.
    Open,
    /// A limited number of probe calls test the downstream.
    HalfOpen,
}

impl BreakerState {
    /// `CLOSED`, `OPEN` or `HALF_OPEN` (as stored and logged).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "CLOSED",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "HALF_OPEN",
        }
    }

    #[cfg(any(test, feature = "dynamodb"))]
    /// The state named by [`as_str`](BreakerState::as_str).
    pub(crate) fn parse(text: &str) -> Option<BreakerState> {
        match text {
            "CLOSED" => Some(BreakerState::Closed),
            "OPEN" => Some(BreakerState::Open),
            "HALF_OPEN" => Some(BreakerState::HalfOpen),
            _ => None,
        }
    }
}

/// A change of state, with why it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The state before.
    pub(crate) from: BreakerState,
    /// The state after.
    pub(crate) to: BreakerState,
    /// Why (`consecutive failures`, `failure rate`, `probe failed`, …).
    pub(crate) reason: &'static str,
}

/// What the breaker lets a call do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Closed: the call runs and is counted.
    Allowed,
    /// Half-open: the call runs as a probe.
    Probe,
    /// Open (or half-open without a probe slot): fail now; retry after.
    Rejected {
        /// When a retry may be admitted.
        retry_after: Duration,
    },
}

/// The local machine of one breaker in one container.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) state: BreakerState,
    pub(crate) open_until_ms: u64,
    /// Consecutive trips without a close: drives the open-time backoff.
    pub(crate) trips: u32,
    /// The version of the shared record this state was adopted from or
    /// published as.
    pub(crate) version: u64,
    consecutive_failures: u32,
    window: VecDeque<(u64, bool)>,
    window_failures: u32,
    /// Probe calls this container may run in the current half-open period.
    pub(crate) probe_permits: u32,
    probes_in_flight: u32,
    probe_successes: u32,
    /// Probe successes not yet counted in the shared store.
    pub(crate) unreported_successes: u32,
    /// Without a shared store, half-open permits are granted locally.
    local_only: bool,
}

impl Machine {
    pub(crate) fn new(local_only: bool) -> Machine {
        Machine {
            state: BreakerState::Closed,
            open_until_ms: 0,
            trips: 0,
            version: 0,
            consecutive_failures: 0,
            window: VecDeque::new(),
            window_failures: 0,
            probe_permits: 0,
            probes_in_flight: 0,
            probe_successes: 0,
            unreported_successes: 0,
            local_only,
        }
    }

    /// Whether a call may run now.
    pub(crate) fn admit(&mut self, now_ms: u64, policy: &BreakerPolicy) -> (Admission, Option<Transition>) {
        let mut transition = None;
        if self.state == BreakerState::Open && now_ms >= self.open_until_ms {
            let permits = if self.local_only { policy.probes } else { 0 };
            transition = Some(self.enter_half_open(now_ms, policy, permits, "open time over"));
        } else if self.state == BreakerState::HalfOpen && self.local_only && now_ms >= self.open_until_ms {
            // A half-open period that ended undecided (probes abandoned or
            // never run): a new period with fresh permits. Shared breakers
            // do this fleet-wide in `sync`.
            self.enter_half_open(now_ms, policy, policy.probes, "probe period over");
        }
        let admission = match self.state {
            BreakerState::Closed => Admission::Allowed,
            BreakerState::Open => {
                Admission::Rejected { retry_after: Duration::from_millis(self.open_until_ms - now_ms) }
            }
            BreakerState::HalfOpen if self.probes_in_flight < self.probe_permits => {
                self.probes_in_flight += 1;
                Admission::Probe
            }
            BreakerState::HalfOpen => Admission::Rejected { retry_after: policy.refresh },
        };
        (admission, transition)
    }

    /// Counts the outcome of an admitted call.
    pub(crate) fn record(
        &mut self,
        admission: Admission,
        failed: bool,
        now_ms: u64,
        policy: &BreakerPolicy,
    ) -> Option<Transition> {
        match admission {
            Admission::Probe => {
                self.probes_in_flight = self.probes_in_flight.saturating_sub(1);
                if self.state != BreakerState::HalfOpen {
                    return None; // another container decided meanwhile
                }
                self.probe_permits = self.probe_permits.saturating_sub(1);
                if failed {
                    Some(self.trip(now_ms, policy, self.trips + 1, "probe failed"))
                } else {
                    self.probe_successes += 1;
                    if self.probe_successes >= policy.close_after {
                        return Some(self.close("probes succeeded"));
                    }
                    if !self.local_only {
                        // Other containers' probes may complete the count.
                        self.unreported_successes += 1;
                    }
                    None
                }
            }
            Admission::Allowed if self.state == BreakerState::Closed => {
                self.count(now_ms, failed, policy);
                if failed && policy.consecutive_failures.is_some_and(|n| self.consecutive_failures >= n) {
                    return Some(self.trip(now_ms, policy, 1, "consecutive failures"));
                }
                if failed && self.rate_exceeded(policy) {
                    return Some(self.trip(now_ms, policy, 1, "failure rate"));
                }
                None
            }
            _ => None,
        }
    }

    fn count(&mut self, now_ms: u64, failed: bool, policy: &BreakerPolicy) {
        self.consecutive_failures = if failed { self.consecutive_failures + 1 } else { 0 };
        if let Some((_, window, _)) = policy.failure_rate {
            let since = now_ms.saturating_sub(window.as_millis() as u64);
            while self.window.front().is_some_and(|(at, _)| *at < since) {
                if let Some((_, true)) = self.window.pop_front() {
                    self.window_failures -= 1;
                }
            }
            self.window.push_back((now_ms, failed));
            self.window_failures += u32::from(failed);
        }
    }

    fn rate_exceeded(&self, policy: &BreakerPolicy) -> bool {
        let Some((rate, _, min_calls)) = policy.failure_rate else { return false };
        let calls = self.window.len() as u32;
        calls >= min_calls && f64::from(self.window_failures) >= rate * f64::from(calls)
    }

    /// Opens the breaker for the `trip`-th consecutive time.
    pub(crate) fn trip(&mut self, now_ms: u64, policy: &BreakerPolicy, trip: u32, reason: &'static str) -> Transition {
        let from = self.state;
        self.state = BreakerState::Open;
        self.trips = trip;
        self.open_until_ms = now_ms + policy.jittered_open_duration(trip).as_millis() as u64;
        self.reset_counts();
        Transition { from, to: BreakerState::Open, reason }
    }

    fn close(&mut self, reason: &'static str) -> Transition {
        let from = self.state;
        self.state = BreakerState::Closed;
        self.trips = 0;
        self.open_until_ms = 0;
        self.reset_counts();
        Transition { from, to: BreakerState::Closed, reason }
    }

    /// Starts a half-open period that ends undecided at
    /// `now_ms + policy.half_open_timeout` (kept in `open_until_ms`).
    pub(crate) fn enter_half_open(
        &mut self,
        now_ms: u64,
        policy: &BreakerPolicy,
        permits: u32,
        reason: &'static str,
    ) -> Transition {
        let from = self.state;
        self.state = BreakerState::HalfOpen;
        self.open_until_ms = half_open_deadline(now_ms, policy);
        self.probe_permits = permits;
        self.probes_in_flight = 0;
        self.probe_successes = 0;
        self.unreported_successes = 0;
        Transition { from, to: BreakerState::HalfOpen, reason }
    }

    /// Closes when the fleet-wide count of successful probes of the
    /// half-open period `version` reached the policy's threshold.
    pub(crate) fn close_by_fleet(&mut self, version: u64) -> Option<Transition> {
        (self.state == BreakerState::HalfOpen && self.version == version).then(|| self.close("probes succeeded"))
    }

    /// A probe whose call was dropped before it finished (cancelled by a
    /// timeout, a `select!`): its slot is free again, nothing is counted.
    pub(crate) fn abandon(&mut self, admission: Admission) {
        if admission == Admission::Probe {
            self.probes_in_flight = self.probes_in_flight.saturating_sub(1);
        }
    }

    /// Grants half-open permits locally (no store, or the store is down).
    pub(crate) fn set_local_only(&mut self, local_only: bool) {
        self.local_only = local_only;
    }

    /// Takes the shared state (another container's decision).
    pub(crate) fn adopt(
        &mut self,
        state: BreakerState,
        open_until_ms: u64,
        trips: u32,
        version: u64,
    ) -> Option<Transition> {
        self.version = version;
        if state == BreakerState::HalfOpen && self.state == BreakerState::HalfOpen {
            // A new half-open period of the fleet: this container's old
            // permits and counts are void; it leases anew.
            if open_until_ms != self.open_until_ms {
                self.open_until_ms = open_until_ms;
                self.reset_counts();
                self.probes_in_flight = 0;
            }
            return None;
        }
        if state == self.state && (state != BreakerState::Open || open_until_ms == self.open_until_ms) {
            return None;
        }
        let from = self.state;
        self.state = state;
        self.open_until_ms = open_until_ms;
        self.trips = trips;
        self.reset_counts();
        (from != state).then_some(Transition { from, to: state, reason: "shared state" })
    }

    fn reset_counts(&mut self) {
        self.consecutive_failures = 0;
        self.window.clear();
        self.window_failures = 0;
        self.probe_permits = 0;
        self.probe_successes = 0;
        self.unreported_successes = 0;
    }
}

/// When a half-open period starting at `now_ms` ends undecided.
pub(crate) fn half_open_deadline(now_ms: u64, policy: &BreakerPolicy) -> u64 {
    now_ms.saturating_add(policy.half_open_timeout.as_millis() as u64)
}
