//! Operator surfaces: the attempt history (with rotation), the facts logged per episode, and
//! the admin endpoint. Translation only: the writer, the monitor and the server are the core's
//! and `smartretry-admin`'s.

use crate::engine::Engine;
use crate::episode::Episode;
use crate::error::{invalid_argument, seconds, OrJs};
use napi_derive::napi;
use smartretry::history::HistoryOptions;
use smartretry::{EpisodeMeta, JsonlHistory};
use smartretry_admin::{AdminConfig, AdminServer};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Facts about an episode's job, logged with each later attempt (absent: unknown).
#[napi(object)]
pub struct EpisodeMetaInput {
    pub job_type: Option<String>,
    /// Bytes.
    pub payload_size: Option<f64>,
    pub worker_version: Option<String>,
    /// The latest downstream call's latency, seconds.
    pub downstream_latency: Option<f64>,
}

#[napi]
impl Engine {
    /// Log every attempt to a JSON Lines file (appended). `optionsJson`: {"max_bytes": N,
    /// "max_files": 3, "worker_version": "..."}; rotation at max_bytes.
    #[napi]
    pub fn write_history(&self, path: String, options_json: Option<String>) -> napi::Result<()> {
        let options = match options_json {
            Some(j) => HistoryOptions::from_json(&j).or_js()?,
            None => HistoryOptions::default(),
        };
        let sink = JsonlHistory::open(Path::new(&path), options).or_js()?;
        self.inner.set_history(Some(Arc::new(sink)));
        Ok(())
    }

    /// Write out buffered history records.
    #[napi]
    pub fn flush_history(&self) -> napi::Result<()> {
        self.inner.flush_history().or_js()
    }

    /// Stop logging attempts (the file is flushed and closed).
    #[napi]
    pub fn stop_history(&self) -> napi::Result<()> {
        self.inner.flush_history().or_js()?;
        self.inner.set_history(None);
        Ok(())
    }

    /// Serve stats, models, recent decisions, overrides and Prometheus /metrics on a loopback
    /// address or a Unix socket. `configJson`: {"listen": "127.0.0.1:0", "token": "...",
    /// "recent": 256}; writes (overrides) need the token.
    #[napi]
    pub fn serve_admin(&self, config_json: Option<String>) -> napi::Result<Admin> {
        let config = match config_json {
            Some(j) => AdminConfig::from_json(&j).or_js()?,
            None => AdminConfig::default(),
        };
        let server = AdminServer::start(&self.inner, config).or_js()?;
        Ok(Admin {
            server: Mutex::new(Some(server)),
        })
    }
}

#[napi]
impl Episode {
    /// Replace the facts logged with this episode's later attempts.
    #[napi]
    pub fn set_meta(&mut self, meta: EpisodeMetaInput) -> napi::Result<()> {
        for (what, v) in [
            ("job_type", &meta.job_type),
            ("worker_version", &meta.worker_version),
        ] {
            if let Some(v) = v {
                smartretry::names::check_name(what, v).or_js()?;
            }
        }
        let payload_size = match meta.payload_size {
            None => None,
            Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9.007e15 => {
                Some(n as u64)
            }
            Some(n) => {
                return Err(invalid_argument(format!(
                    "payloadSize must be a whole number of bytes >= 0, not {n}"
                )))
            }
        };
        let downstream_latency = meta
            .downstream_latency
            .map(|s| seconds("downstream_latency", s))
            .transpose()?;
        self.inner.set_meta(EpisodeMeta {
            job_type: meta.job_type,
            payload_size,
            worker_version: meta.worker_version,
            downstream_latency,
        });
        Ok(())
    }
}

/// A running admin endpoint; `stop()` stops it.
#[napi]
pub struct Admin {
    server: Mutex<Option<AdminServer>>,
}

impl Admin {
    fn with<T>(&self, f: impl FnOnce(&AdminServer) -> T) -> napi::Result<T> {
        let guard = self.server.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(f).ok_or_else(|| {
            crate::error::engine_error(smartretry::Error::InvalidState(
                "the admin endpoint was stopped".into(),
            ))
        })
    }
}

#[napi]
impl Admin {
    /// `http://127.0.0.1:PORT`, or `unix:/path`.
    #[napi(getter)]
    pub fn url(&self) -> napi::Result<String> {
        self.with(|s| s.url().to_string())
    }

    /// The metrics in the Prometheus text format (what /metrics serves).
    #[napi]
    pub fn metrics(&self) -> napi::Result<String> {
        self.with(|s| s.monitor().prometheus())
    }

    /// The same figures as JSON text.
    #[napi]
    pub fn metrics_json(&self) -> napi::Result<String> {
        self.with(|s| s.monitor().metrics_json().to_string())
    }

    /// The last decisions, newest first, as JSON text.
    #[napi]
    pub fn recent_json(&self, limit: u32) -> napi::Result<String> {
        self.with(|s| {
            serde_json::to_string(&s.monitor().recent(limit as usize))
                .unwrap_or_else(|_| "[]".into())
        })
    }

    /// Stop serving (idempotent).
    #[napi]
    pub fn stop(&self) {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(server);
    }
}
