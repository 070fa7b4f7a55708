//! `FleetStore`: attaches an engine to a fleet. The engine keeps deciding from its local models;
//! a background thread owned by the store pushes the engine's own evidence and merges the
//! fleet's, every `sync_interval` or as soon as `sync_after_episodes` episodes finished. Dropping
//! the store stops the thread (joined within a bounded wait).

use crate::breakers::SharedBreakers;
use crate::config::{FleetConfig, Keys};
use crate::error::Result;
use crate::evidence;
use crate::exchange::Exchange;
use crate::lease::{LeaseRounds, SharedBudgets};
use crate::ledger::Ledger;
use crate::remote::Remote;
use parking_lot::{Condvar, Mutex};
use smartretry::{Engine, Event, Observer};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the store has done so far (for dashboards and tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetStats {
    /// Syncs that reached Redis and finished.
    pub syncs: u64,
    /// Syncs that failed (Redis unreachable, timed out, refused).
    pub failures: u64,
    /// Pushes the server accepted.
    pub pushes: u64,
    /// Other engines whose evidence is pooled.
    pub peers: usize,
    /// Fleet entries skipped because they did not decode.
    pub rejected: u64,
    /// Breakers opened here because another engine of the fleet opened them.
    pub breakers_opened: u64,
    /// Leasing rounds of shared budgets answered (one per budget per sync).
    pub budget_rounds: u64,
    /// The last failure's message, if the last sync failed.
    pub last_error: Option<String>,
}

/// Wakes the sync thread early when enough episodes finished (called on deciding threads:
/// one atomic add, and a notify once per `threshold` episodes).
struct Trigger {
    finished: AtomicU64,
    threshold: u64,
    wake: Arc<Wake>,
}

#[derive(Default)]
pub(crate) struct Wake {
    pending: Mutex<Due>,
    cv: Condvar,
}

/// What the sync thread was woken for.
#[derive(Default, Clone, Copy)]
struct Due {
    /// A whole sync (enough episodes finished, or the store is stopping).
    sync: bool,
    /// Only a leasing round (a shared budget ran low).
    lease: bool,
}

impl Wake {
    pub(crate) fn notify(&self) {
        self.pending.lock().sync = true;
        self.cv.notify_one();
    }

    /// Ask for an early leasing round only (cheap: one pipeline, no model exchange).
    pub(crate) fn notify_lease(&self) {
        self.pending.lock().lease = true;
        self.cv.notify_one();
    }
}

impl Observer for Trigger {
    fn on_event(&self, event: &Event<'_>) {
        if matches!(event, Event::Success { .. } | Event::Exhausted { .. }) {
            let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
            if n % self.threshold == 0 {
                self.wake.notify();
            }
        }
    }
}

/// The sync state: one at a time (the thread, or `sync_now`).
struct Syncer {
    engine: Engine,
    remote: Remote,
    keys: Keys,
    id: String,
    seq: u64,
    ledger: Ledger,
    exchange: Exchange,
    last_pushed: Option<(u64, Vec<u8>)>,
    /// Leasing rounds of the engine's shared budgets (None: budgets not shared).
    leases: Option<LeaseRounds>,
    /// Open breakers shared (None: not shared).
    breakers: Option<SharedBreakers>,
    stats: FleetStats,
}

impl Syncer {
    /// One round: read who published what, settle own and foreign parts, publish own evidence
    /// if it changed or the server lost it, merge what the fleet adds.
    fn sync(&mut self) -> Result<()> {
        // Budgets first: cheap, and what keeps retries flowing.
        if let Some(leases) = self.leases.as_mut() {
            leases.run(&self.engine, &mut self.remote, &self.keys, &self.id)?;
            self.stats.budget_rounds = leases.answered;
        }
        if let Some(breakers) = self.breakers.as_mut() {
            breakers.sync(&self.engine, &mut self.remote, &self.keys)?;
            self.stats.breakers_opened = breakers.opened;
        }
        let seqs = Exchange::sequences(&mut self.remote, &self.keys)?;
        let others = self
            .exchange
            .pull(&mut self.remote, &self.keys, &self.id, &seqs)?;
        let peers = others.len();
        let fleet = evidence::sum(others);
        let keep = 2f64.powf(-1.0 / self.engine.policy().learning.half_life_episodes.max(1.0));
        let settlement = self.ledger.settle(&self.engine.snapshot(), &fleet, keep);
        let own = settlement.own.encode();
        let server_has = seqs.get(&self.id).copied();
        let unchanged = matches!(&self.last_pushed, Some((seq, bytes)) if Some(*seq) == server_has && *bytes == own);
        if !unchanged {
            self.seq += 1;
            if Exchange::push(
                &mut self.remote,
                &self.keys,
                &self.id,
                self.seq,
                &settlement.own,
            )? {
                self.stats.pushes += 1;
            }
            self.last_pushed = Some((self.seq, own));
        }
        if !settlement.increment.models.is_empty() {
            self.engine.try_merge(&settlement.increment)?;
        }
        self.ledger.commit(settlement);
        self.stats.peers = peers;
        self.stats.rejected = self.exchange.rejected;
        Ok(())
    }

    /// A leasing round only (a shared budget ran low between syncs).
    fn lease_now(&mut self) -> Result<()> {
        let Some(leases) = self.leases.as_mut() else {
            return Ok(());
        };
        let out = leases.run(&self.engine, &mut self.remote, &self.keys, &self.id);
        self.stats.budget_rounds = leases.answered;
        out
    }

    fn sync_counted(&mut self) -> Result<()> {
        let out = self.sync();
        match &out {
            Ok(()) => {
                self.stats.syncs += 1;
                self.stats.last_error = None;
            }
            Err(e) => {
                self.stats.failures += 1;
                self.stats.last_error = Some(e.to_string());
            }
        }
        out
    }
}

/// An engine's membership in a fleet. Keep it alive as long as the engine should sync.
pub struct FleetStore {
    syncer: Arc<Mutex<Syncer>>,
    wake: Arc<Wake>,
    stop: Arc<AtomicBool>,
    thread: Option<(JoinHandle<()>, mpsc::Receiver<()>)>,
    join_wait: Duration,
    /// The engine whose budgets this store shares (given back their local buckets on drop).
    shared_budgets_of: Option<Engine>,
}

impl std::fmt::Debug for FleetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetStore")
            .field("stats", &self.stats())
            .finish()
    }
}

impl FleetStore {
    /// Attach `engine` to the fleet and start syncing in the background. Fails only on a bad
    /// configuration: an unreachable Redis is retried every interval, the engine deciding alone
    /// meanwhile.
    pub fn attach(engine: &Engine, config: FleetConfig) -> Result<FleetStore> {
        let store = FleetStore::attach_manual(engine, config.clone())?;
        Ok(store.start(config.sync_interval))
    }

    /// Attach without a background thread: the caller syncs with `sync_now` (tests, simulations
    /// on a manual clock, or callers with their own scheduler).
    pub fn attach_manual(engine: &Engine, config: FleetConfig) -> Result<FleetStore> {
        config.validate()?;
        let remote = Remote::open(&config.url, config.io_timeout)?;
        let id = config.engine_id.clone().unwrap_or_else(random_id);
        let wake = Arc::new(Wake::default());
        let leases = config.share_budgets.map(|n| {
            engine.set_budget_backend(Arc::new(SharedBudgets {
                share: 1.0 / f64::from(n),
                wake: wake.clone(),
            }));
            LeaseRounds::new(start_seq())
        });
        engine.add_observer(Arc::new(Trigger {
            finished: AtomicU64::new(0),
            threshold: config.sync_after_episodes,
            wake: wake.clone(),
        }));
        Ok(FleetStore {
            syncer: Arc::new(Mutex::new(Syncer {
                engine: engine.clone(),
                remote,
                keys: Keys::new(&config.namespace),
                id,
                seq: start_seq(),
                ledger: Ledger::default(),
                exchange: Exchange::default(),
                last_pushed: None,
                leases,
                breakers: config.share_breakers.then(SharedBreakers::new),
                stats: FleetStats::default(),
            })),
            wake,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
            // A sync in flight finishes within a few timeouts (sequences, pull, push).
            join_wait: config.io_timeout * 4 + Duration::from_millis(100),
            shared_budgets_of: config.share_budgets.map(|_| engine.clone()),
        })
    }

    fn start(mut self, every: Duration) -> FleetStore {
        let (syncer, wake, stop) = (self.syncer.clone(), self.wake.clone(), self.stop.clone());
        let (done_tx, done_rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("smartretry-fleet".into())
            .spawn(move || {
                // Early leasing rounds at most this often, so an empty fleet bucket cannot
                // turn budgets running low into a busy loop.
                let lease_gap = (every / 8).min(Duration::from_millis(100));
                let mut due = Due {
                    sync: true,
                    lease: false,
                };
                while !stop.load(Ordering::Acquire) {
                    if due.sync {
                        let _ = syncer.lock().sync_counted();
                    } else if due.lease {
                        let _ = syncer.lock().lease_now();
                        std::thread::sleep(lease_gap);
                    }
                    let mut pending = wake.pending.lock();
                    if !(pending.sync || pending.lease || stop.load(Ordering::Acquire)) {
                        // Timed out: the regular sync.
                        if wake.cv.wait_for(&mut pending, every).timed_out() {
                            pending.sync = true;
                        }
                    }
                    due = std::mem::take(&mut *pending);
                }
                let _ = done_tx.send(());
            });
        // Without a thread the store still works through `sync_now`.
        self.thread = spawned.ok().map(|h| (h, done_rx));
        self
    }

    /// Sync once, now, on the calling thread (waits for a background sync in progress).
    pub fn sync_now(&self) -> Result<()> {
        self.syncer.lock().sync_counted()
    }

    /// This engine's id in the fleet.
    pub fn engine_id(&self) -> String {
        self.syncer.lock().id.clone()
    }

    pub fn stats(&self) -> FleetStats {
        self.syncer.lock().stats.clone()
    }
}

impl Drop for FleetStore {
    fn drop(&mut self) {
        // Shared buckets would wait forever for rounds: the engine's budgets become its own.
        if let Some(engine) = self.shared_budgets_of.take() {
            engine.set_budget_backend(Arc::new(smartretry::budget::LocalBudgets));
        }
        self.stop.store(true, Ordering::Release);
        self.wake.notify();
        if let Some((handle, done)) = self.thread.take() {
            // Join only if the thread is finishing; a thread stuck past the wait is left to end
            // on its own (it holds no lock the caller needs).
            if done.recv_timeout(self.join_wait).is_ok() {
                let _ = handle.join();
            }
        }
    }
}

/// A random engine id (16 hex digits).
fn random_id() -> String {
    use rand::{Rng, SeedableRng};
    format!(
        "{:016x}",
        rand::rngs::SmallRng::from_os_rng().random::<u64>()
    )
}

/// Sequences start from the wall clock in microseconds, so an engine that reuses its id after
/// a restart still publishes entries newer than its old ones.
fn start_seq() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
