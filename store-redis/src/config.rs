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
