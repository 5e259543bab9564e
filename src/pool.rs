//! The addon's one N-API task: work that runs on a libuv pool thread and
//! resolves a promise with its result. Snapshot files are finished, files
//! analysed and snapshots compared this way, so the JS thread never waits.

use napi::bindgen_prelude::*;

/// Work for the pool; its result becomes the promise's value.
pub struct PoolWork<T>(Option<Box<dyn FnOnce() -> T + Send>>);

/// `work` on a pool thread, as the promise a `#[napi]` function returns.
pub fn on_pool<T>(work: impl FnOnce() -> T + Send + 'static) -> AsyncTask<PoolWork<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    AsyncTask::new(PoolWork(Some(Box::new(work))))
}

impl<T> Task for PoolWork<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        // The work runs once; napi never computes a task twice.
        let work = self.0.take().ok_or_else(|| Error::new(Status::GenericFailure, "pool work ran twice"))?;
        // A panic is a bug to report, not a reason to take the host down.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .map_err(|_| Error::new(Status::GenericFailure, "heapscope: internal error on a pool thread"))
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}
