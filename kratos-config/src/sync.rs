//! The poisoning policy of kratos-rs (`kratos_core::sync`, which this leaf
//! crate cannot depend on): a lock poisoned by a panic is recovered with
//! [`PoisonError::into_inner`], so one panicking observer or listener does
//! not make every later config call panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a `std` mutex, recovering the guard if a panic poisoned it.
pub(crate) trait LockExt<T: ?Sized> {
    /// Locks, ignoring poisoning.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockExt<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
