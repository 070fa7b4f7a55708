//! A retry loop for Rust callers: run an operation, ask the engine after each failure, wait on the
//! engine's clock, record every outcome.

use crate::engine::Engine;
use crate::error::Error;
use crate::failure::Failure;
use crate::recommendation::Recommendation;
use std::fmt;
use std::time::Duration;

/// Why a retried operation failed for good: its last error and the recommendation that stopped it.
#[derive(Debug)]
pub enum RetryError<E> {
    /// The engine said give up (or escalate); the last error and the reason are attached.
    Exhausted {
        /// The operation's error from its final attempt.
        last_error: E,
        /// The recommendation that ended the retries.
        recommendation: Box<Recommendation>,
    },
    /// The engine refused the call (an invalid key, tenant or failure).
    Engine(Error),
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::Exhausted {
                last_error,
                recommendation,
            } => write!(f, "{last_error} ({recommendation})"),
            RetryError::Engine(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for RetryError<E> {}

/// What the loop does after an attempt.
enum Next<T, E> {
    Done(Result<T, RetryError<E>>),
    Wait(Duration),
}

/// Runs operations for one queue key (and optionally a tenant) under an engine.
#[derive(Debug, Clone)]
pub struct Retrier {
    engine: Engine,
    key: String,
    tenant: Option<String>,
}

impl Retrier {
    /// A retry loop for queue key `key` on `engine` (no tenant).
    pub fn new(engine: &Engine, key: impl Into<String>) -> Retrier {
        Retrier {
            engine: engine.clone(),
            key: key.into(),
            tenant: None,
        }
    }

    /// The same loop, counting its episodes against `tenant`.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Retrier {
        self.tenant = Some(tenant.into());
        self
    }

    /// Record an attempt's outcome and say what comes next.
    fn after<T, E>(
        &self,
        ep: &mut crate::Episode,
        outcome: Result<T, E>,
        describe: &impl Fn(&E) -> Failure,
    ) -> Next<T, E> {
        match outcome {
            Ok(v) => {
                let _ = self.engine.on_success(ep);
                Next::Done(Ok(v))
            }
            Err(e) => {
                let rec = match self.engine.on_failure(ep, &describe(&e)) {
                    Ok(rec) => rec,
                    Err(err) => return Next::Done(Err(RetryError::Engine(err))),
                };
                if rec.should_retry() {
                    Next::Wait(rec.delay)
                } else {
                    Next::Done(Err(RetryError::Exhausted {
                        last_error: e,
                        recommendation: Box::new(rec),
                    }))
                }
            }
        }
    }

    /// Run `op(attempt)` (attempt numbers start at 1) until it succeeds or the engine says stop.
    /// `describe` turns an error into what the engine classifies.
    pub fn run<T, E>(
        &self,
        mut op: impl FnMut(u32) -> Result<T, E>,
        describe: impl Fn(&E) -> Failure,
    ) -> Result<T, RetryError<E>> {
        let mut ep = self
            .engine
            .begin(&self.key, self.tenant.as_deref())
            .map_err(RetryError::Engine)?;
        loop {
            // The adaptive rate limiter's token for this attempt (zero unless throttled).
            let wait = self.engine.acquire(&self.key).map_err(RetryError::Engine)?;
            self.engine.clock().sleep(wait);
            let outcome = op(ep.attempts() + 1);
            match self.after(&mut ep, outcome, &describe) {
                Next::Done(result) => return result,
                Next::Wait(delay) => self.engine.clock().sleep(delay),
            }
        }
    }

    /// The async form: `sleep` is the runtime's sleep (e.g. `tokio::time::sleep`), so this works
    /// with any executor. A zero delay does not sleep at all.
    #[cfg(feature = "async")]
    pub async fn run_async<T, E, Fut, S, SFut>(
        &self,
        mut op: impl FnMut(u32) -> Fut,
        describe: impl Fn(&E) -> Failure,
        sleep: S,
    ) -> Result<T, RetryError<E>>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
        S: Fn(Duration) -> SFut,
        SFut: std::future::Future<Output = ()>,
    {
        let mut ep = self
            .engine
            .begin(&self.key, self.tenant.as_deref())
            .map_err(RetryError::Engine)?;
        loop {
            let wait = self.engine.acquire(&self.key).map_err(RetryError::Engine)?;
            if wait > Duration::ZERO {
                sleep(wait).await;
            }
            let outcome = op(ep.attempts() + 1).await;
            match self.after(&mut ep, outcome, &describe) {
                Next::Done(result) => return result,
                Next::Wait(delay) if delay > Duration::ZERO => sleep(delay).await,
                Next::Wait(_) => {}
            }
        }
    }
}
