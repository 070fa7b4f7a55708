//! A fleet configuration as JSON, for bindings that pass options as text (the C ABI, and Go
//! through it): one reader, so every such binding accepts the same fields.

use crate::config::FleetConfig;
use crate::error::{FleetError, Result};
use serde::Deserialize;
use std::time::Duration;

/// `{"namespace", "sync_interval" (s), "sync_after_episodes", "io_timeout" (s), "engine_id",
/// "share_budgets" (processes), "share_breakers", "background"}`, every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FleetOptions {
    namespace: Option<String>,
    sync_interval: Option<f64>,
    sync_after_episodes: Option<u64>,
    io_timeout: Option<f64>,
    engine_id: Option<String>,
    share_budgets: Option<u32>,
    share_breakers: bool,
    background: Option<bool>,
}

fn secs(what: &str, v: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        FleetError::InvalidConfig(format!("{what} must be a number of seconds >= 0, got {v}"))
    })
}

impl FleetConfig {
    /// The configuration for `url` with the options of a JSON object (None or "" for the
    /// defaults), validated, and whether to sync on a background thread (default true).
    pub fn from_json(url: &str, json: Option<&str>) -> Result<(FleetConfig, bool)> {
        let o: FleetOptions = match json.map(str::trim) {
            None | Some("") => FleetOptions::default(),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| FleetError::InvalidConfig(format!("fleet options: {e}")))?,
        };
        let mut c = FleetConfig::new(url);
        if let Some(ns) = o.namespace {
            c.namespace = ns;
        }
        if let Some(v) = o.sync_interval {
            c.sync_interval = secs("sync_interval", v)?;
        }
        if let Some(v) = o.sync_after_episodes {
            c.sync_after_episodes = v;
        }
        if let Some(v) = o.io_timeout {
            c.io_timeout = secs("io_timeout", v)?;
        }
        c.engine_id = o.engine_id;
        c.share_budgets = o.share_budgets;
        c.share_breakers = o.share_breakers;
        c.validate()?;
        Ok((c, o.background.unwrap_or(true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_and_bad_ones_are_typed_errors() {
        let (c, bg) = FleetConfig::from_json(
            "redis://h:1",
            Some(r#"{"namespace":"p","sync_interval":0.5,"share_budgets":8,"share_breakers":true,"background":false}"#),
        )
        .unwrap();
        assert_eq!(c.namespace, "p");
        assert_eq!(c.sync_interval, Duration::from_millis(500));
        assert_eq!(
            (c.share_budgets, c.share_breakers, bg),
            (Some(8), true, false)
        );
        assert!(FleetConfig::from_json("redis://h:1", None).unwrap().1);
        for bad in [
            r#"{"nope":1}"#,
            r#"{"io_timeout":-1}"#,
            "[",
            r#"{"share_budgets":0}"#,
        ] {
            assert!(
                matches!(
                    FleetConfig::from_json("redis://h:1", Some(bad)),
                    Err(FleetError::InvalidConfig(_))
                ),
                "{bad}"
            );
        }
    }
}
