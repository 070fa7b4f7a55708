//! The admin endpoint of a live engine, opt-in: HTTP on a loopback address or a Unix socket.
//! Reads (stats, models, recent decisions, overrides, policy, `/metrics` for Prometheus) are
//! open to local clients; writes (overrides) need the bearer token given at start, and are
//! refused when none was given. The core stays free of networking: this crate only serves what
//! `smartretry::monitor` computes.
//!
//! ```no_run
//! use smartretry::{Engine, Policy};
//! use smartretry_admin::{AdminConfig, AdminServer};
//!
//! let engine = Engine::new(Policy::default()).unwrap();
//! let admin = AdminServer::start(&engine, AdminConfig::default()).unwrap();
//! println!("curl {}/metrics", admin.url());
//! ```

mod config;
mod rollouts;
mod routes;
mod server;

pub use config::{AdminConfig, Listen};
pub use routes::{handle, Reply, Request};
pub use server::AdminServer;
