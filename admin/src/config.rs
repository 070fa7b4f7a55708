//! Where the endpoint listens and who may write. Only loopback addresses and Unix sockets are
//! accepted: the endpoint is for operators on the machine (or through an SSH tunnel or a
//! sidecar), never exposed to a network directly.

use serde::Deserialize;
use smartretry::{Error, Result};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Shortest token accepted: a guessable token is no protection.
const MIN_TOKEN_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// `127.0.0.1:PORT`, `[::1]:PORT` (port 0 picks a free one) or `unix:/path/to.sock`.
    pub listen: String,
    /// Bearer token for write operations (overrides). None: writes are refused.
    pub token: Option<String>,
    /// Recent decisions kept for `/decisions`.
    pub recent: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: "127.0.0.1:0".into(),
            token: None,
            recent: smartretry::monitor::DEFAULT_RECENT,
        }
    }
}

/// A validated listening place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl AdminConfig {
    /// A configuration from JSON, e.g. `{"listen":"127.0.0.1:9464","token":"..."}`.
    pub fn from_json(json: &str) -> Result<AdminConfig> {
        serde_json::from_str(json).map_err(|e| Error::InvalidConfig(format!("admin: {e}")))
    }

    /// Check the address and token.
    pub fn listen_at(&self) -> Result<Listen> {
        if let Some(t) = &self.token {
            if t.len() < MIN_TOKEN_LEN || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::InvalidConfig(format!(
                    "admin token must be at least {MIN_TOKEN_LEN} characters, without spaces"
                )));
            }
        }
        if self.recent == 0 || self.recent > 100_000 {
            return Err(Error::InvalidConfig(
                "admin recent must be between 1 and 100000".into(),
            ));
        }
        if let Some(path) = self.listen.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(Error::InvalidConfig(
                    "admin listen: empty socket path".into(),
                ));
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        let addr: SocketAddr = self.listen.parse().map_err(|_| {
            Error::InvalidConfig(format!(
                "admin listen {:?}: expected 127.0.0.1:PORT, [::1]:PORT or unix:/path",
                self.listen
            ))
        })?;
        if !addr.ip().is_loopback() {
            return Err(Error::InvalidConfig(format!(
                "admin listen {addr}: only loopback addresses are allowed"
            )));
        }
        Ok(Listen::Tcp(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_or_unix() {
        let at = |listen: &str| {
            AdminConfig {
                listen: listen.into(),
                ..Default::default()
            }
            .listen_at()
        };
        assert!(matches!(at("127.0.0.1:0"), Ok(Listen::Tcp(_))));
        assert!(matches!(at("[::1]:9000"), Ok(Listen::Tcp(_))));
        assert!(matches!(at("unix:/tmp/x.sock"), Ok(Listen::Unix(_))));
        for bad in ["0.0.0.0:9000", "10.0.0.1:80", "localhost", "unix:", ""] {
            assert_eq!(at(bad).unwrap_err().code(), "INVALID_CONFIG", "{bad}");
        }
    }

    #[test]
    fn short_tokens_and_unknown_fields_are_refused() {
        let c = AdminConfig::from_json(r#"{"token":"short"}"#).unwrap();
        assert!(c.listen_at().is_err());
        assert!(AdminConfig::from_json(r#"{"port":80}"#).is_err());
        assert!(AdminConfig::from_json(r#"{"recent":0}"#)
            .unwrap()
            .listen_at()
            .is_err());
    }
}
