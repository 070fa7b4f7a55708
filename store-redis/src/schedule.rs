//! Durable retry scheduling on Redis, for many machines: a sorted set of job ids by due time
//! (microseconds of the caller's clock) beside hashes of payloads and delivery counts, all in the
//! namespace's hash tag. A claim moves the job's due time to the end of its lease inside one
//! script, so two workers never claim the same job and a claim never acked comes due again.

use crate::config::{FleetConfig, Keys};
use crate::remote::Remote;
use parking_lot::{Mutex, MutexGuard};
use smartretry::fork::ProcessOwner;
use smartretry_schedule::{
    check_job, micros, Claim, Result, RetrySchedule, ScheduleError, SqliteSchedule,
};
use std::time::Duration;

const SCHEDULE: &str = r"
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], 0)
return 1
";

const CLAIM: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[3], id)
  local n = redis.call('HINCRBY', KEYS[3], id, 1)
  table.insert(out, {id, redis.call('HGET', KEYS[2], id) or '', n})
end
return out
";

const ACK: &str = r"
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return removed
";

const NACK: &str = r"
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  return 1
end
return 0
";

pub struct RedisSchedule {
    remote: Mutex<Remote>,
    keys: [String; 3],
    /// The process whose connection `remote` holds: a forked child connects anew (on a shared
    /// socket the two processes' replies would mix).
    owner: ProcessOwner,
}

fn storage(e: crate::FleetError) -> ScheduleError {
    ScheduleError::Storage(e.to_string())
}

impl RedisSchedule {
    /// The schedule of the fleet's namespace (`smartretry:{ns}:schedule:*`).
    pub fn open(fleet: &FleetConfig) -> Result<RedisSchedule> {
        fleet
            .validate()
            .map_err(|e| ScheduleError::InvalidInput(e.to_string()))?;
        let keys = Keys::new(&fleet.namespace);
        Ok(RedisSchedule {
            remote: Mutex::new(
                Remote::open(&fleet.url, fleet.io_timeout)
                    .map_err(|e| ScheduleError::InvalidInput(e.to_string()))?,
            ),
            keys: ["due", "payload", "deliveries"].map(|k| keys.schedule(k)),
            owner: ProcessOwner::new(),
        })
    }

    /// The connection of this process (a forked child's first call opens its own).
    fn remote(&self) -> MutexGuard<'_, Remote> {
        let mut remote = self.remote.lock();
        if !self.owner.is_current() {
            remote.disconnect();
            self.owner.take_over();
        }
        remote
    }

    fn run<T: redis::FromRedisValue>(&self, script: &str, args: &[&[u8]]) -> Result<T> {
        let script = redis::Script::new(script);
        let mut invocation = script.prepare_invoke();
        for k in &self.keys {
            invocation.key(k);
        }
        for a in args {
            invocation.arg(*a);
        }
        self.remote()
            .with(|c| invocation.invoke::<T>(c))
            .map_err(storage)
    }
}

impl RetrySchedule for RedisSchedule {
    fn schedule(&self, job_id: &str, payload: &[u8], due: Duration) -> Result<()> {
        check_job(job_id, payload)?;
        let due = micros("due", due)?.to_string();
        self.run::<i64>(SCHEDULE, &[job_id.as_bytes(), due.as_bytes(), payload])?;
        Ok(())
    }

    fn claim_due(&self, now: Duration, limit: usize, lease: Duration) -> Result<Vec<Claim>> {
        let until = now.saturating_add(lease);
        let (now_us, until_us) = (micros("now", now)?, micros("now + lease", until)?);
        let (now_us, until_us, limit) = (
            now_us.to_string(),
            until_us.to_string(),
            limit.min(1_000_000).to_string(),
        );
        let rows: Vec<(String, Vec<u8>, u32)> = self.run(
            CLAIM,
            &[now_us.as_bytes(), limit.as_bytes(), until_us.as_bytes()],
        )?;
        Ok(rows
            .into_iter()
            .map(|(job_id, payload, deliveries)| Claim {
                job_id,
                payload,
                deliveries,
                lease_until: until,
            })
            .collect())
    }

    fn ack(&self, job_id: &str) -> Result<bool> {
        Ok(self.run::<i64>(ACK, &[job_id.as_bytes()])? == 1)
    }

    fn nack(&self, job_id: &str, due: Duration) -> Result<bool> {
        let due = micros("due", due)?.to_string();
        Ok(self.run::<i64>(NACK, &[job_id.as_bytes(), due.as_bytes()])? == 1)
    }

    fn len(&self) -> Result<usize> {
        let key = self.keys[0].clone();
        self.remote()
            .with(|c| redis::cmd("ZCARD").arg(&key).query::<usize>(c))
            .map_err(storage)
    }
}

/// The schedule at `location`: a `redis://` or `rediss://` URL (the namespace's schedule), or
/// else the path of a SQLite file (created if missing). One way to name a schedule for the CLI
/// and the bindings.
pub fn open_schedule(location: &str, namespace: &str) -> Result<Box<dyn RetrySchedule>> {
    if location.starts_with("redis://") || location.starts_with("rediss://") {
        let config = FleetConfig::new(location).namespace(namespace);
        return Ok(Box::new(RedisSchedule::open(&config)?));
    }
    if location.is_empty() {
        return Err(ScheduleError::InvalidInput(
            "schedule location must be a SQLite path or a redis:// URL, got an empty string".into(),
        ));
    }
    Ok(Box::new(SqliteSchedule::open(std::path::Path::new(
        location,
    ))?))
}
