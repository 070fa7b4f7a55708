//! Where the fleet meets and how often engines sync.

use crate::error::{FleetError, Result};
use std::time::Duration;

/// Longest namespace accepted (bytes).
pub const MAX_NAMESPACE_LEN: usize = 64;

/// How an engine joins a fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). Valkey speaks the same.
    pub url: String,
    /// Every key lives under `smartretry:{namespace}:`; the braces are a Redis Cluster hash tag,
    /// so one namespace's keys share a slot and its scripts may touch several of them.
    pub namespace: String,
    /// How often the background thread pushes and pulls.
    pub sync_interval: Duration,
    /// Sync early once this many episodes finished since the last sync (a large delta).
    pub sync_after_episodes: u64,
    /// Connect, read and write timeout of every Redis call (the background thread's; decisions
    /// never wait on Redis).
    pub io_timeout: Duration,
    /// This engine's name in the fleet (default: random). Must be unique among live engines.
    pub engine_id: Option<String>,
    /// Share the engine's own retry budgets (the policy's `budget` and `tenant_budget`) with
    /// the fleet: `Some(n)` for a fleet of about `n` processes, each of which runs alone on
    /// `1/n` of a budget while Redis is unreachable. None: each engine's budgets are its own.
    pub share_budgets: Option<u32>,
    /// Share open circuit breakers: one engine's open breaker opens the dependency's breaker
    /// on every engine until the same deadline (needs `breaker` in the policy).
    pub share_breakers: bool,
}

impl FleetConfig {
    /// Defaults for a URL: namespace `default`, sync every second or after 256 episodes, 250 ms
    /// timeouts.
    pub fn new(url: &str) -> FleetConfig {
        FleetConfig {
            url: url.to_string(),
            namespace: "default".to_string(),
            sync_interval: Duration::from_secs(1),
            sync_after_episodes: 256,
            io_timeout: Duration::from_millis(250),
            engine_id: None,
            share_budgets: None,
            share_breakers: false,
        }
    }

    pub fn namespace(mut self, namespace: &str) -> FleetConfig {
        self.namespace = namespace.to_string();
        self
    }

    pub fn sync_interval(mut self, every: Duration) -> FleetConfig {
        self.sync_interval = every;
        self
    }

    pub fn engine_id(mut self, id: &str) -> FleetConfig {
        self.engine_id = Some(id.to_string());
        self
    }

    /// Share the engine's retry budgets with a fleet of about `processes` engines: retries are
    /// paid from tokens leased from one bucket per budget in Redis; each engine falls back to
    /// `1/processes` of the budget while Redis is unreachable.
    pub fn share_budgets(mut self, processes: u32) -> FleetConfig {
        self.share_budgets = Some(processes);
        self
    }

    /// Share open circuit breakers with the fleet (see the field).
    pub fn share_breakers(mut self) -> FleetConfig {
        self.share_breakers = true;
        self
    }

    /// Every field in range; the URL's scheme known (the rest is checked by the client).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(FleetError::InvalidConfig(m));
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            return bad(format!(
                "url must start with redis:// or rediss://, got {:?}",
                redact(&self.url)
            ));
        }
        if self.url.starts_with("rediss://") && !cfg!(feature = "tls") {
            return bad("rediss:// needs the `tls` feature of smartretry-redis".into());
        }
        check_name("namespace", &self.namespace)?;
        if let Some(id) = &self.engine_id {
            check_name("engine_id", id)?;
        }
        if self.sync_interval < Duration::from_millis(1)
            || self.sync_interval > Duration::from_secs(3600)
        {
            return bad("sync_interval must be between 1 ms and 1 hour".into());
        }
        if self.io_timeout < Duration::from_millis(1) || self.io_timeout > Duration::from_secs(60) {
            return bad("io_timeout must be between 1 ms and 60 s".into());
        }
        if let Some(n) = self.share_budgets {
            if !(1..=100_000).contains(&n) {
                return bad(format!("share_budgets must be 1-100000 processes, got {n}"));
            }
        }
        if self.sync_after_episodes == 0 {
            return bad("sync_after_episodes must be at least 1".into());
        }
        Ok(())
    }
}

/// Names that go into keys: short, printable, and without braces (which would change the hash
/// tag) or colons (the key separator).
pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAMESPACE_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(FleetError::InvalidConfig(format!(
            "{what} must be 1-{MAX_NAMESPACE_LEN} characters of A-Z a-z 0-9 - _ ., got {name:?}"
        )))
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// Key names, all under one hash tag.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(namespace: &str) -> Keys {
        Keys {
            prefix: format!("smartretry:{{{namespace}}}:"),
        }
    }

    /// Hash: engine id -> its own cumulative evidence (an encoded snapshot).
    pub fn evidence(&self) -> String {
        format!("{}evidence", self.prefix)
    }

    /// Hash: engine id -> sequence number of its last accepted push.
    pub fn evidence_seq(&self) -> String {
        format!("{}evidence-seq", self.prefix)
    }

    /// One structure of the durable retry schedule (`due`, `payload`, `deliveries`).
    pub fn schedule(&self, part: &str) -> String {
        format!("{}schedule:{part}", self.prefix)
    }

    /// Hash of an engine budget shared by the fleet (`FleetConfig::share_budgets`): a queue's
    /// or a tenant's, by the engine's policy.
    pub fn shared_budget(&self, tenant: bool, name: &str) -> String {
        let scope = if tenant { "tenant" } else { "queue" };
        format!("{}budget:{scope}:{name}", self.prefix)
    }

    /// Hash: dependency -> until when (microseconds) its breaker is open fleet-wide.
    pub fn breakers(&self) -> String {
        format!("{}breakers", self.prefix)
    }

    /// Hash of one fleet budget: tokens held (thousandths), refill carry, last refill time.
    pub fn budget(&self, name: &str) -> String {
        format!("{}budget:{name}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configurations_are_typed_errors() {
        assert!(FleetConfig::new("redis://127.0.0.1:6379")
            .validate()
            .is_ok());
        for bad in [
            FleetConfig::new("http://x"),
            FleetConfig::new("redis://x").namespace("a{b}"),
            FleetConfig::new("redis://x").namespace(""),
            FleetConfig::new("redis://x").sync_interval(Duration::ZERO),
            FleetConfig::new("redis://x").engine_id("a:b"),
            FleetConfig::new("redis://x").share_budgets(0),
        ] {
            assert!(
                matches!(bad.validate(), Err(FleetError::InvalidConfig(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_share_one_cluster_slot_and_passwords_are_not_shown() {
        let k = Keys::new("prod");
        assert_eq!(k.evidence(), "smartretry:{prod}:evidence");
        assert_eq!(redact("redis://user:pw@h:1/0"), "redis://***@h:1/0");
    }
}
