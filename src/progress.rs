//! Progress reporting and cancellation for long jobs.
//!
//! Library code reports through [`Progress`] and polls [`Progress::is_cancelled`]; the CLI
//! drives a terminal progress bar from it and the desktop app a progress widget, so the same
//! loader serves both without knowing who is watching.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// A sink for progress of one long job.
pub trait Progress: Send + Sync {
    /// A new stage starts (e.g. "units.geojson"); `total` is its amount of work, if known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// Work done within the current stage.
    fn advance(&self, done: u64);
    /// True once the user asked to stop; long loops call [`check`] regularly.
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// Returns `Err(Cancelled)` when the job was cancelled.
pub fn check(progress: &dyn Progress) -> Result<()> {
    if progress.is_cancelled() {
        Err(Error::Cancelled)
    } else {
        Ok(())
    }
}

/// Ignores all progress; never cancelled.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _done: u64) {}
}

/// Shared progress state a UI thread can poll while a worker thread loads.
#[derive(Clone, Default)]
pub struct SharedProgress {
    inner: Arc<SharedInner>,
}

#[derive(Default)]
struct SharedInner {
    stage: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    cancelled: AtomicBool,
}

impl SharedProgress {
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the running job to stop at its next check.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }
    /// Current stage name and fraction done (None when the total is unknown).
    pub fn snapshot(&self) -> (String, Option<f32>) {
        let stage = self
            .inner
            .stage
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let total = self.inner.total.load(Ordering::Relaxed);
        let done = self.inner.done.load(Ordering::Relaxed);
        let frac = (total > 0).then(|| (done as f32 / total as f32).min(1.0));
        (stage, frac)
    }
}

impl Progress for SharedProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        if let Ok(mut s) = self.inner.stage.lock() {
            *s = name.to_owned();
        }
        self.inner
            .total
            .store(total.unwrap_or(0), Ordering::Relaxed);
        self.inner.done.store(0, Ordering::Relaxed);
    }
    fn advance(&self, done: u64) {
        self.inner.done.store(done, Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }
}

/// Holds a job's partial data (features read so far, a dataset half built) and frees it on
/// another thread when dropped: freeing a million features takes longer than the 100 ms a
/// cancel may take, and the user who cancelled should not wait for the allocator. A job
/// that finishes takes its value back with [`Discard::into_inner`] (no thread).
pub struct Discard<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> Discard<T> {
    pub fn new(x: T) -> Self {
        Discard(Some(x))
    }
    /// The value back, for the path that keeps it.
    pub fn into_inner(mut self) -> T {
        self.0.take().expect("taken once")
    }
}

impl<T: Send + 'static> std::ops::Deref for Discard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("not taken")
    }
}

impl<T: Send + 'static> std::ops::DerefMut for Discard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.as_mut().expect("not taken")
    }
}

impl<T: Send + 'static> Drop for Discard<T> {
    fn drop(&mut self) {
        if let Some(x) = self.0.take() {
            // If no thread can start, the closure (and `x`) is freed here, as usual.
            let _ = std::thread::Builder::new()
                .name("discard".into())
                .spawn(move || drop(x));
        }
    }
}
