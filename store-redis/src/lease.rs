//! The engine's own retry budgets shared by the fleet (`FleetConfig::share_budgets`).
//!
//! The engine keeps deciding from its local buckets; each is a *shared* bucket (smartretry core,
//! `budget/shared.rs`) that pays retries from tokens leased from the fleet's bucket in Redis.
//! The store's thread runs a leasing round for every bucket at each sync, or early when a bucket
//! runs low: one pipeline (the script loaded, then one script call per budget) per round, never
//! a round trip per decision. Each round carries a sequence: a round whose answer was lost is
//! resent unchanged, and the script answers it from what it stored, so credits and debts count
//! once. While Redis is unreachable every bucket runs alone on its local share.

use crate::config::Keys;
use crate::error::Result;
use crate::remote::Remote;
use crate::sync_thread::Wake;
use smartretry::budget::{
    BudgetBackend, BudgetScope, LeaseAnswer, LeaseRequest, RetryBudget, MILLI,
};
use smartretry::{BudgetConfig, Engine};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const SCRIPT: &str = include_str!("lease_script.lua");
/// An idle fleet budget is forgotten after a day (it then starts full).
const IDLE_EXPIRY_MS: u64 = 86_400_000;

/// The engine's budget backend while budgets are shared: shared buckets, and an early round
/// when one runs low.
pub(crate) struct SharedBudgets {
    pub share: f64,
    pub wake: Arc<Wake>,
}

impl BudgetBackend for SharedBudgets {
    fn open(&self, _: BudgetScope, _: &str, config: &BudgetConfig, now: Duration) -> RetryBudget {
        RetryBudget::shared(config.clone(), self.share, now)
    }

    fn running_low(&self, _: BudgetScope, _: &str) {
        self.wake.notify_lease();
    }
}

type BudgetId = (BudgetScope, String);

/// The rounds of one engine: sequences, and the rounds not answered yet.
pub(crate) struct LeaseRounds {
    script: redis::Script,
    seq: u64,
    unanswered: HashMap<BudgetId, (u64, LeaseRequest)>,
    /// Rounds answered (one per budget per sync).
    pub answered: u64,
}

fn kind(config: &BudgetConfig) -> &'static str {
    match config {
        BudgetConfig::Ratio { .. } => "ratio",
        BudgetConfig::Grpc { .. } => "grpc",
        BudgetConfig::AwsStandard { .. } => "aws_standard",
    }
}

impl LeaseRounds {
    pub fn new(first_seq: u64) -> LeaseRounds {
        LeaseRounds {
            script: redis::Script::new(SCRIPT),
            seq: first_seq,
            unanswered: HashMap::new(),
            answered: 0,
        }
    }

    /// One round for every shared bucket of `engine`. On failure every bucket goes on alone and
    /// the rounds are kept, to be resent.
    pub fn run(
        &mut self,
        engine: &Engine,
        remote: &mut Remote,
        keys: &Keys,
        id: &str,
    ) -> Result<()> {
        let now = engine.now();
        let mut rounds: Vec<(BudgetId, u64, LeaseRequest, BudgetConfig)> = Vec::new();
        engine.for_each_budget(|scope, name, bucket| {
            if !bucket.is_shared() {
                return;
            }
            let key = (scope, name.to_string());
            let round = match self.unanswered.get(&key) {
                Some(&(seq, request)) => Some((seq, request)),
                None => bucket.begin_lease().map(|r| {
                    self.seq += 1;
                    (self.seq, r)
                }),
            };
            if let Some((seq, request)) = round {
                self.unanswered.insert(key.clone(), (seq, request));
                rounds.push((key, seq, request, bucket.config().clone()));
            }
        });
        // Rounds of budgets the engine forgot are not resent.
        self.unanswered
            .retain(|k, _| rounds.iter().any(|(key, ..)| key == k));
        if rounds.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.cmd("SCRIPT").arg("LOAD").arg(SCRIPT).ignore();
        for ((scope, name), seq, request, config) in &rounds {
            let rate = match config {
                BudgetConfig::Ratio { min_per_sec, .. } => min_per_sec * MILLI as f64,
                _ => 0.0,
            };
            let mut invocation = self
                .script
                .key(keys.shared_budget(*scope == BudgetScope::Tenant, name));
            invocation
                .arg(id)
                .arg(*seq)
                .arg(now.as_micros() as u64)
                .arg(kind(config))
                .arg((config.capacity() * MILLI as f64).round() as i64)
                .arg(rate)
                .arg(request.credit)
                .arg(request.want)
                .arg(IDLE_EXPIRY_MS);
            pipe.invoke_script(&invocation);
        }
        match remote.with(|c| pipe.query::<Vec<(i64, i64)>>(c)) {
            Ok(answers) => {
                for (((scope, name), ..), (granted, level)) in rounds.iter().zip(answers) {
                    self.unanswered.remove(&(*scope, name.clone()));
                    engine.with_budget(*scope, name, |b| {
                        b.finish_lease(LeaseAnswer { granted, level })
                    });
                    self.answered += 1;
                }
                Ok(())
            }
            Err(e) => {
                engine.for_each_budget(|_, _, b| b.lease_failed());
                Err(e)
            }
        }
    }
}
