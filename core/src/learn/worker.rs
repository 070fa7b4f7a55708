//! The plan rebuild worker: one background thread per engine that refits models and rebuilds
//! their plans (an EM fit plus a dynamic programme, about 100 µs each), so that no caller's
//! thread pays for learning and no model's lock is held while it runs.
//!
//! Work is bounded and coalesced: a model has at most one rebuild queued (its slot's pending
//! flag), the queue holds at most `QUEUE_CAPACITY` jobs, and a request that finds it full is
//! dropped (the model asks again at its next update). While requests keep coming the thread
//! collects them once per `TICK` rather than waiting on the queue, so that callers do not pay a
//! wake-up (a system call) per rebuild. The thread is started on the first
//! request (which waits, once per engine, for it to be running and named `THREAD_NAME`), holds
//! no reference to the engine, and stops when the engine is dropped: `Drop`
//! tells it to stop and joins it, waiting at most `JOIN_TIMEOUT` (one rebuild takes well under a
//! millisecond; after the timeout the thread is left to finish on its own).

use super::fork::{Gate, ProcessOwner};
use super::planner::{self, Plan};
use super::prior::Prior;
use crate::episode::ModelSlot;
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rebuilds waiting at most (a job is a reference to its model and the settings to build for).
pub const QUEUE_CAPACITY: usize = 4096;
/// How long dropping the engine waits for the worker to stop.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Share of one core the worker may keep busy: after a rebuild it rests in proportion, so that
/// under sustained load learning takes at most this much CPU from the callers (requests that
/// arrive meanwhile coalesce, or are dropped when the queue is full, and plans age a little).
pub const MAX_BUSY_SHARE: f64 = 0.5;
/// Longest single rest (the owed time is paid in slices, so a stop is never kept waiting).
const MAX_REST: Duration = Duration::from_millis(5);
/// While requests keep coming the worker collects them once per tick instead of waiting on the
/// queue: a caller that queues a rebuild for a waiting thread pays a futex wake (a system call,
/// a few µs), one that queues for a ticking thread pays nothing. A tick that finds the queue
/// empty ends the busy spell, and the worker waits on the queue again (so an idle engine's thread
/// sleeps, and a rebuild asked for at a quiet moment starts at once).
const TICK: Duration = Duration::from_millis(2);
/// The worker thread's name (at most 15 bytes, the Linux limit), as `ps -L` and /proc show it.
pub const THREAD_NAME: &str = "smartretry-plan";
/// While the queue is full, one request in this many (per thread) still looks for a fork made
/// without the hooks (a process-id system call); the others are dropped at the cost of a load.
const FORK_CHECK_EVERY: u32 = 256;

thread_local! {
    /// Requests this thread found the queue full for (`FORK_CHECK_EVERY`).
    static DROPPED: Cell<u32> = const { Cell::new(0) };
}

/// One model's plan to rebuild, with the settings to build it for.
pub(crate) struct Job {
    pub slot: Arc<ModelSlot>,
    pub priors: Arc<Vec<Prior>>,
    pub cost: f64,
    pub horizon: f64,
}

/// Refit `slot`'s model and install the new plan: the evidence is copied under the model's lock,
/// the fit runs without it, and the plan is installed and published under it again.
pub(crate) fn rebuild(slot: &ModelSlot, prior: &Prior, cost: f64, horizon: f64) -> Arc<Plan> {
    let input = slot.model.lock().rebuild_input();
    let previous = input.previous.as_ref().map(|p| &p.fit);
    let plan = Arc::new(planner::build(
        &input.hazard,
        prior,
        cost,
        horizon,
        previous,
    ));
    let mut model = slot.model.lock();
    if model.install(plan.clone(), input.updates) {
        slot.plan.store(Some(plan.clone()));
    }
    plan
}

/// The next job, or None once the queue is closed: taken at once if one is queued; else, in a
/// busy spell (`ticking`), after one `TICK`; else waited for on the queue.
fn next_job(jobs: &Receiver<Job>, stop: &AtomicBool, ticking: &mut bool) -> Option<Job> {
    loop {
        match jobs.try_recv() {
            Ok(job) => {
                *ticking = true;
                return Some(job);
            }
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if *ticking && !stop.load(Ordering::Acquire) => {
                *ticking = false;
                std::thread::sleep(TICK);
            }
            Err(TryRecvError::Empty) => {
                let job = jobs.recv().ok()?;
                *ticking = true;
                return Some(job);
            }
        }
    }
}

/// Jobs queued or running, and the signal that there are none.
#[derive(Default)]
struct Outstanding {
    count: Mutex<usize>,
    idle: Condvar,
    /// Jobs in the queue, not yet taken by the thread: read without a lock, so that a full queue
    /// turns a request away before any other work.
    queued: AtomicUsize,
}

impl Outstanding {
    fn add(&self) {
        *self.count.lock() += 1;
    }

    fn done(&self) {
        let mut n = self.count.lock();
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.idle.notify_all();
        }
    }
}

/// The engine's handle on its worker thread.
pub(crate) struct PlanWorker {
    /// The process that started the thread: a forked child inherits the engine but not the
    /// thread, and rebuilds inline from then on (see `forked` and `learn::fork`).
    owner: ProcessOwner,
    /// Pauses the thread between rebuilds around a fork, and says when this is a forked child.
    gate: Arc<Gate>,
    stop: Arc<AtomicBool>,
    outstanding: Arc<Outstanding>,
    /// What lives only in the process that runs the thread (a forked child leaks it unread).
    thread: Option<ThreadParts>,
}

struct ThreadParts {
    queue: SyncSender<Job>,
    /// Disconnected when the thread has ended (its sender is dropped on the way out). In a mutex
    /// only so that the engine stays `Sync`; `Drop` alone reads it.
    ended: Mutex<Receiver<()>>,
    handle: JoinHandle<()>,
}

impl PlanWorker {
    /// Start the thread; `gate` is registered with the fork hooks already (`Gate::register`,
    /// when the engine was made: this runs under a model's lock, where the hooks' registry
    /// must not be taken).
    pub fn spawn(gate: Arc<Gate>) -> std::io::Result<PlanWorker> {
        let (queue, jobs) = mpsc::sync_channel::<Job>(QUEUE_CAPACITY);
        let (ending, ended) = mpsc::channel::<()>();
        let (up, ready) = mpsc::channel::<()>();
        let stop = Arc::new(AtomicBool::new(false));
        let outstanding = Arc::new(Outstanding::default());
        let handle = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn({
                let (stop, outstanding, gate) = (stop.clone(), outstanding.clone(), gate.clone());
                move || {
                    let _ending = ending;
                    let _ = up.send(());
                    let (mut owed, mut idle_since) = (Duration::ZERO, Instant::now());
                    let mut ticking = false;
                    while let Some(job) = next_job(&jobs, &stop, &mut ticking) {
                        outstanding.queued.fetch_sub(1, Ordering::Relaxed);
                        // A fork waits until this rebuild is done (see `learn::fork`).
                        let passage = gate.enter();
                        if !stop.load(Ordering::Acquire) {
                            let started = Instant::now();
                            // Time spent idle pays the debt too: only a busy worker rests.
                            owed = owed.saturating_sub(started - idle_since);
                            let prior = &job.priors[job.slot.class as usize];
                            rebuild(&job.slot, prior, job.cost, job.horizon);
                            owed += started.elapsed().mul_f64(1.0 / MAX_BUSY_SHARE - 1.0);
                        }
                        job.slot.rebuild_pending.store(false, Ordering::Release);
                        drop(job);
                        outstanding.done();
                        drop(passage);
                        if owed >= MAX_REST && !stop.load(Ordering::Acquire) {
                            std::thread::sleep(MAX_REST);
                            owed -= MAX_REST;
                        }
                        idle_since = Instant::now();
                    }
                }
            })?;
        // Once per engine: the thread is running (and named) before the first request is queued,
        // so that what it is doing is visible (ps, /proc) from then on.
        let _ = ready.recv_timeout(JOIN_TIMEOUT);
        Ok(PlanWorker {
            owner: ProcessOwner::new(),
            gate,
            stop,
            outstanding,
            thread: Some(ThreadParts {
                queue,
                ended: Mutex::new(ended),
                handle,
            }),
        })
    }

    /// Whether this process is a fork of the one the thread runs in (then nothing serves the
    /// queue here, and the engine rebuilds inline).
    #[inline]
    pub fn forked(&self) -> bool {
        self.gate.forked()
    }

    /// Known forked: told by the fork hook, or found by the process id (a fork without hooks).
    fn check_forked(&self) -> bool {
        if self.gate.forked() {
            return true;
        }
        if !self.owner.is_current() {
            self.gate.mark_forked();
            return true;
        }
        false
    }

    /// Queue a rebuild unless one is queued for the model already or the queue is full.
    ///
    /// A full queue (the worker behind, many models learning at once) turns the request away
    /// first, before the fork check's system call: under that load every update of a model due
    /// for a rebuild asks again, and those system calls took about a tenth of the callers' time
    /// (the sustained bench: 0.55 per decision). A fork without hooks is then noticed by a
    /// sample of those requests (`FORK_CHECK_EVERY`), or by the first request once the queue has
    /// room.
    pub fn request(&self, job: Job) {
        if self.outstanding.queued.load(Ordering::Relaxed) >= QUEUE_CAPACITY {
            let n = DROPPED.with(|d| {
                d.set(d.get().wrapping_add(1));
                d.get()
            });
            if n % FORK_CHECK_EVERY == 0 {
                self.check_forked();
            }
            return;
        }
        if self.check_forked() {
            return;
        }
        if job.slot.rebuild_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(parts) = &self.thread else { return };
        let queue = &parts.queue;
        self.outstanding.add();
        self.outstanding.queued.fetch_add(1, Ordering::Relaxed);
        match queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.outstanding.queued.fetch_sub(1, Ordering::Relaxed);
                job.slot.rebuild_pending.store(false, Ordering::Release);
                self.outstanding.done();
            }
        }
    }

    /// Wait until every queued rebuild is done, at most `timeout`; whether it was.
    pub fn flush(&self, timeout: Duration) -> bool {
        if self.check_forked() {
            return true;
        }
        let deadline = Instant::now() + timeout;
        let mut n = self.outstanding.count.lock();
        while *n > 0 {
            if self
                .outstanding
                .idle
                .wait_until(&mut n, deadline)
                .timed_out()
            {
                return *n == 0;
            }
        }
        true
    }
}

impl Drop for PlanWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let Some(parts) = self.thread.take() else {
            return;
        };
        if self.check_forked() {
            // A forked child: the thread is not in this process, and what it shared with it
            // (the queue's and the join handle's state) may be mid-change; leave it untouched.
            std::mem::forget(parts);
            return;
        }
        // Closing the queue wakes the thread; queued jobs are dropped unbuilt.
        drop(parts.queue);
        let ended = parts.ended.lock().recv_timeout(JOIN_TIMEOUT);
        match ended {
            Err(RecvTimeoutError::Disconnected) | Ok(()) => {
                let _ = parts.handle.join();
            }
            // Still inside a rebuild after the timeout: leave it to finish on its own.
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ErrorClass;
    use crate::learn::model::LearnedModel;

    fn job() -> Job {
        Job {
            slot: Arc::new(ModelSlot {
                key: "q".into(),
                tenant: None,
                class: ErrorClass::Timeout,
                last_used: Default::default(),
                plan: Default::default(),
                rebuild_pending: Default::default(),
                model: Mutex::new(LearnedModel::new(100.0)),
            }),
            priors: Arc::new(Vec::new()),
            cost: 1.0,
            horizon: 60.0,
        }
    }

    #[test]
    fn a_busy_worker_collects_requests_by_the_tick_and_waits_on_the_queue_when_idle() {
        let (queue, jobs) = mpsc::sync_channel::<Job>(4);
        let stop = AtomicBool::new(false);
        // Idle: a queued job is taken at once and starts a busy spell.
        let mut ticking = false;
        queue.send(job()).expect("send");
        assert!(next_job(&jobs, &stop, &mut ticking).is_some());
        assert!(ticking, "a job starts a busy spell");
        // Busy, a job queued meanwhile: taken, still busy.
        queue.send(job()).expect("send");
        assert!(next_job(&jobs, &stop, &mut ticking).is_some());
        assert!(ticking);
        // Busy, nothing queued within a tick: the spell ends, and the worker waits on the queue
        // (a job queued by another thread wakes it).
        let sender = std::thread::spawn({
            let queue = queue.clone();
            move || queue.send(job()).expect("send")
        });
        assert!(next_job(&jobs, &stop, &mut ticking).is_some());
        sender.join().expect("sender");
        // The queue closed: None, busy or not, once what was queued is taken.
        queue.send(job()).expect("send");
        drop(queue);
        assert!(next_job(&jobs, &stop, &mut ticking).is_some());
        assert!(next_job(&jobs, &stop, &mut ticking).is_none());
        let mut idle = false;
        assert!(next_job(&jobs, &stop, &mut idle).is_none());
    }

    #[test]
    fn a_full_queue_turns_requests_away_without_marking_the_model() {
        let worker = PlanWorker::spawn(crate::learn::fork::Gate::register()).expect("thread");
        // The queue as the worker left it behind: full.
        worker
            .outstanding
            .queued
            .store(QUEUE_CAPACITY, Ordering::Relaxed);
        let mut turned_away = job();
        // A prior for every class, so that the worker can build the plan.
        turned_away.priors = Arc::new(vec![Prior::log_logistic(5.0, 1.0); 32]);
        let slot = turned_away.slot.clone();
        for _ in 0..FORK_CHECK_EVERY + 1 {
            worker.request(Job {
                slot: slot.clone(),
                priors: turned_away.priors.clone(),
                cost: 1.0,
                horizon: 60.0,
            });
        }
        assert!(
            !slot.rebuild_pending.load(Ordering::Acquire),
            "a model turned away must be free to ask again"
        );
        assert!(worker.flush(JOIN_TIMEOUT));
        assert!(
            slot.plan.load().is_none(),
            "a request was queued though the queue was full"
        );
        assert!(
            !worker.forked(),
            "the sampled fork check found this process its own"
        );
        // Room again: the request is queued and served.
        worker.outstanding.queued.store(0, Ordering::Relaxed);
        worker.request(turned_away);
        assert!(
            worker.flush(JOIN_TIMEOUT),
            "the queued rebuild was not served"
        );
        assert!(!slot.rebuild_pending.load(Ordering::Acquire));
        assert_eq!(worker.outstanding.queued.load(Ordering::Relaxed), 0);
        assert!(slot.plan.load().is_some(), "the worker built the plan");
    }
}
