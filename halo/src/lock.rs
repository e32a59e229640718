//! A poison-tolerant mutex lock: the state behind halo's mutexes stays
//! valid across a panic (each critical section leaves it consistent), so a
//! panic elsewhere never makes every later lock panic too.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking the data of a poisoned one as it is.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
