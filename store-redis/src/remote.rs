//! One connection to Redis with timeouts, opened on demand and dropped on any error, so a
//! server that died, restarted or was slowed costs the background thread one timeout per try
//! and never wedges it.

use crate::config::redact;
use crate::error::{FleetError, Result};
use std::time::Duration;

pub(crate) struct Remote {
    client: redis::Client,
    conn: Option<redis::Connection>,
    timeout: Duration,
}

impl Remote {
    pub fn open(url: &str, timeout: Duration) -> Result<Remote> {
        let client = redis::Client::open(url).map_err(|e| {
            FleetError::InvalidConfig(format!("bad redis url {:?}: {e}", redact(url)))
        })?;
        Ok(Remote {
            client,
            conn: None,
            timeout,
        })
    }

    /// Run `f` on the connection (connecting first if needed); on error the connection is
    /// dropped so the next call reconnects.
    pub fn with<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        if self.conn.is_none() {
            let conn = self.client.get_connection_with_timeout(self.timeout)?;
            conn.set_read_timeout(Some(self.timeout))?;
            conn.set_write_timeout(Some(self.timeout))?;
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(FleetError::Redis("not connected".into()));
        };
        match f(conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.conn = None;
                Err(e.into())
            }
        }
    }

    /// Forget the connection (the next call opens a new one): in a forked child, whose
    /// inherited socket is the parent's.
    pub fn disconnect(&mut self) {
        self.conn = None;
    }
}
