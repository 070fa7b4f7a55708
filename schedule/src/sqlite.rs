//! The embedded backend: one SQLite file (bundled SQLite, WAL journal), safe for several
//! processes on one machine. A claim moves the retry's due time to the end of its lease, so a
//! claim that is never acked comes due again by itself: one column serves both.

use crate::{check_job, micros, Claim, Result, RetrySchedule, ScheduleError};
use parking_lot::{Mutex, MutexGuard};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use smartretry::fork::ProcessOwner;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn storage(e: rusqlite::Error) -> ScheduleError {
    ScheduleError::Storage(e.to_string())
}

pub struct SqliteSchedule {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The process that opened `conn`. SQLite connections must not cross a fork: a forked child
    /// opens its own, and leaves the inherited one alone (closing it could checkpoint or remove
    /// the write-ahead log the parent is still using).
    owner: ProcessOwner,
}

impl SqliteSchedule {
    /// Open (creating if needed) the schedule at `path`.
    pub fn open(path: &Path) -> Result<SqliteSchedule> {
        Ok(SqliteSchedule {
            conn: Mutex::new(connect(path)?),
            path: path.to_path_buf(),
            owner: ProcessOwner::new(),
        })
    }

    /// This process's connection (a forked child's first call opens its own).
    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        let mut conn = self.conn.lock();
        if !self.owner.is_current() {
            let inherited = std::mem::replace(&mut *conn, connect(&self.path)?);
            std::mem::forget(inherited);
            self.owner.take_over();
        }
        Ok(conn)
    }
}

/// A connection to the schedule at `path`, its table created if missing.
fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(storage)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(storage)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(storage)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS retries (
                 job_id TEXT PRIMARY KEY,
                 payload BLOB NOT NULL,
                 due_us INTEGER NOT NULL,
                 deliveries INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS retries_due ON retries (due_us);",
    )
    .map_err(storage)?;
    Ok(conn)
}

impl RetrySchedule for SqliteSchedule {
    fn schedule(&self, job_id: &str, payload: &[u8], due: Duration) -> Result<()> {
        check_job(job_id, payload)?;
        let due = micros("due", due)?;
        self.conn()?
            .execute(
                "INSERT INTO retries (job_id, payload, due_us, deliveries) VALUES (?1, ?2, ?3, 0)
                 ON CONFLICT (job_id) DO UPDATE SET payload = ?2, due_us = ?3, deliveries = 0",
                params![job_id, payload, due],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn claim_due(&self, now: Duration, limit: usize, lease: Duration) -> Result<Vec<Claim>> {
        let now_us = micros("now", now)?;
        let until = now.saturating_add(lease);
        let until_us = micros("now + lease", until)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.conn()?;
        // IMMEDIATE: take the write lock first, so two processes cannot claim the same rows.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let due: Vec<(String, Vec<u8>, u32)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT job_id, payload, deliveries FROM retries WHERE due_us <= ?1
                     ORDER BY due_us, job_id LIMIT ?2",
                )
                .map_err(storage)?;
            let rows = stmt
                .query_map(params![now_us, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(storage)?;
            rows.collect::<rusqlite::Result<_>>().map_err(storage)?
        };
        let mut claims = Vec::with_capacity(due.len());
        for (job_id, payload, deliveries) in due {
            tx.execute(
                "UPDATE retries SET due_us = ?2, deliveries = deliveries + 1 WHERE job_id = ?1",
                params![job_id, until_us],
            )
            .map_err(storage)?;
            claims.push(Claim {
                job_id,
                payload,
                deliveries: deliveries.saturating_add(1),
                lease_until: until,
            });
        }
        tx.commit().map_err(storage)?;
        Ok(claims)
    }

    fn ack(&self, job_id: &str) -> Result<bool> {
        let n = self
            .conn
            .lock()
            .execute("DELETE FROM retries WHERE job_id = ?1", params![job_id])
            .map_err(storage)?;
        Ok(n > 0)
    }

    fn nack(&self, job_id: &str, due: Duration) -> Result<bool> {
        let due = micros("due", due)?;
        let n = self
            .conn
            .lock()
            .execute(
                "UPDATE retries SET due_us = ?2 WHERE job_id = ?1",
                params![job_id, due],
            )
            .map_err(storage)?;
        Ok(n > 0)
    }

    fn len(&self) -> Result<usize> {
        let n: Option<i64> = self
            .conn
            .lock()
            .query_row("SELECT COUNT(*) FROM retries", [], |r| r.get(0))
            .optional()
            .map_err(storage)?;
        Ok(n.unwrap_or(0).max(0) as usize)
    }
}
