//! `FleetStore`: attaches an engine to a fleet. The engine keeps deciding from its local models;
//! a background thread owned by the store pushes the engine's own evidence and merges the
//! fleet's, every `sync_interval` or as soon as `sync_after_episodes` episodes finished. Dropping
//! the store stops the thread (joined within a bounded wait).
//!
//! A forked child (a pre-forking server, Celery's prefork pool) inherits the store but not its
//! thread: the child takes the store over as a new member of the fleet (`fork::take_over`).

use crate::breakers::SharedBreakers;
use crate::config::{FleetConfig, Keys};
use crate::error::Result;
use crate::evidence;
use crate::exchange::Exchange;
use crate::lease::{LeaseRounds, SharedBudgets};
use crate::ledger::Ledger;
use crate::remote::Remote;
use crate::sync_thread::{Shared, Trigger, Wake};
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use smartretry::fork::{ForkChild, Gate, ProcessOwner};
use smartretry::Engine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
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

/// The sync state: one at a time (the thread, or `sync_now`).
pub(crate) struct Syncer {
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
    pub(crate) fn lease_now(&mut self) -> Result<()> {
        let Some(leases) = self.leases.as_mut() else {
            return Ok(());
        };
        let out = leases.run(&self.engine, &mut self.remote, &self.keys, &self.id);
        self.stats.budget_rounds = leases.answered;
        out
    }

    /// In a forked child: join the fleet as a new member. A new id (the parent keeps its own), a
    /// connection of its own (the inherited socket is the parent's), and everything the engine
    /// holds now counted as foreign, since the parent publishes it: only what the child learns
    /// from here on is the child's own evidence.
    pub(crate) fn become_child(&mut self, explicit_id: bool) {
        self.id = if explicit_id {
            format!("{}-{}", self.id, std::process::id())
        } else {
            random_id()
        };
        self.seq = start_seq();
        self.remote.disconnect();
        self.last_pushed = None;
        self.ledger.adopt_everything(&self.engine.snapshot());
        if let Some(leases) = self.leases.as_mut() {
            *leases = LeaseRounds::new(start_seq());
        }
        self.stats = FleetStats::default();
    }

    pub(crate) fn sync_counted(&mut self) -> Result<()> {
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
    shared: Arc<Shared>,
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
        let every = config.sync_interval;
        let store = FleetStore::attach_with(engine, config, Some(every))?;
        let thread = store.shared.spawn(every);
        *store.shared.thread.lock() = thread;
        Ok(store)
    }

    /// Attach without a background thread: the caller syncs with `sync_now` (tests, simulations
    /// on a manual clock, or callers with their own scheduler).
    pub fn attach_manual(engine: &Engine, config: FleetConfig) -> Result<FleetStore> {
        FleetStore::attach_with(engine, config, None)
    }

    /// `every`: the background thread's interval (None: no thread).
    fn attach_with(
        engine: &Engine,
        config: FleetConfig,
        every: Option<Duration>,
    ) -> Result<FleetStore> {
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
        let shared = Arc::new(Shared {
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
            wake: wake.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            gate: ArcSwap::new(Gate::register()),
            owner: ProcessOwner::new(),
            needs_thread: Arc::new(AtomicBool::new(false)),
            every,
            thread: Mutex::new(None),
            explicit_id: config.engine_id.is_some(),
        });
        smartretry::fork::on_fork_in_child(Arc::downgrade(&shared) as Weak<dyn ForkChild>);
        engine.add_observer(Arc::new(Trigger {
            finished: AtomicU64::new(0),
            threshold: config.sync_after_episodes,
            wake,
            needs_thread: shared.needs_thread.clone(),
            store: Arc::downgrade(&shared),
        }));
        Ok(FleetStore {
            shared,
            // A sync in flight finishes within a few timeouts (sequences, pull, push).
            join_wait: config.io_timeout * 4 + Duration::from_millis(100),
            shared_budgets_of: config.share_budgets.map(|_| engine.clone()),
        })
    }

    /// Sync once, now, on the calling thread (waits for a background sync in progress).
    pub fn sync_now(&self) -> Result<()> {
        self.shared.take_over_if_forked();
        let gate = self.shared.gate.load();
        let _passage = gate.enter();
        self.shared.syncer.lock().sync_counted()
    }

    /// This engine's id in the fleet.
    pub fn engine_id(&self) -> String {
        self.shared.take_over_if_forked();
        self.shared.syncer.lock().id.clone()
    }

    pub fn stats(&self) -> FleetStats {
        self.shared.take_over_if_forked();
        self.shared.syncer.lock().stats.clone()
    }
}

impl Drop for FleetStore {
    fn drop(&mut self) {
        // Shared buckets would wait forever for rounds: the engine's budgets become its own.
        if let Some(engine) = self.shared_budgets_of.take() {
            engine.set_budget_backend(Arc::new(smartretry::budget::LocalBudgets));
        }
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.notify();
        let thread = self.shared.thread.lock().take();
        if let Some((handle, done)) = thread {
            if !self.shared.owner.is_current() || self.shared.needs_thread.load(Ordering::Acquire) {
                // A forked child that never started its own thread: this one is the parent's.
                std::mem::forget((handle, done));
                return;
            }
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
