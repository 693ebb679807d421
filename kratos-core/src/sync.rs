//! The workspace's one poisoning policy for `std` locks.
//!
//! A `std::sync::Mutex` is poisoned when a thread panics while holding it.
//! kratos-rs recovers the guard instead of panicking in turn
//! ([`PoisonError::into_inner`]): the state behind its locks (statistics,
//! subscriber lists, caches) stays usable after a panic, and one panicking
//! call must not make every later call panic. Code that keeps invariants a
//! panic could break keeps them so that a half-done update is still valid.
//!
//! ```
//! use std::sync::Mutex;
//! use kratos_core::sync::LockExt;
//!
//! let counter = Mutex::new(0);
//! let _ = std::panic::catch_unwind(|| {
//!     let _guard = counter.lock_unpoisoned();
//!     panic!("poisons the lock");
//! });
//! *counter.lock_unpoisoned() += 1; // still usable
//! assert_eq!(*counter.lock_unpoisoned(), 1);
//! ```

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks a `std` lock, recovering the guard if a panic poisoned it; see the
/// [module docs](self).
pub trait LockExt {
    /// The guard [`lock_unpoisoned`](Self::lock_unpoisoned) returns.
    type Guard<'a>
    where
        Self: 'a;

    /// Locks, ignoring poisoning.
    fn lock_unpoisoned(&self) -> Self::Guard<'_>;
}

impl<T: ?Sized> LockExt for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        Self: 'a;

    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`LockExt`] for a `std::sync::RwLock`.
pub trait RwLockExt<T: ?Sized> {
    /// Locks for reading, ignoring poisoning.
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T>;

    /// Locks for writing, ignoring poisoning.
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_rwlock_stays_usable() {
        let lock = RwLock::new(1);
        let _ = std::panic::catch_unwind(|| {
            let _guard = lock.write_unpoisoned();
            panic!("poisons the lock");
        });
        assert!(lock.is_poisoned());
        *lock.write_unpoisoned() += 1;
        assert_eq!(*lock.read_unpoisoned(), 2);
    }
}
