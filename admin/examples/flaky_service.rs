//! A demo service to watch and steer: a local flaky HTTP server (outages of a few seconds every
//! ~20 s), workers that call it through the engine with real sleeps, and the admin endpoint.
//!
//! ```sh
//! cargo run -p smartretry-admin --example flaky_service          # prints the endpoint
//! smartretry tui --endpoint http://127.0.0.1:9464 --token demo-token-change-me
//! smartretry override set --endpoint http://127.0.0.1:9464 --token demo-token-change-me \
//!     --queue inventory --fixed-delay 2
//! curl -s http://127.0.0.1:9464/metrics
//! ```
//! `SMARTRETRY_ADMIN_LISTEN` and `SMARTRETRY_ADMIN_TOKEN` change the address and the token;
//! `DEMO_SECONDS` stops it after that long.

use smartretry::{Engine, Failure, Policy};
use smartretry_admin::{AdminConfig, AdminServer};
use std::time::{Duration, Instant};

/// Down for `down` seconds at the start of every `period`, per path (so queues differ).
fn is_down(started: Instant, path: &str) -> bool {
    let (period, down) = match path {
        "/inventory" => (20.0, 6.0),
        "/payments" => (30.0, 4.0),
        _ => (45.0, 10.0),
    };
    started.elapsed().as_secs_f64() % period < down
}

fn serve_flaky(server: tiny_http::Server) {
    let started = Instant::now();
    for rq in server.incoming_requests() {
        let status = if is_down(started, rq.url()) { 503 } else { 200 };
        let _ = rq.respond(tiny_http::Response::from_string("").with_status_code(status));
    }
}

fn worker(engine: Engine, base: String, queue: &'static str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        let Ok(mut ep) = engine.begin(queue, None) else {
            return;
        };
        loop {
            let status = agent
                .get(&format!("{base}/{queue}"))
                .call()
                .map(|r| r.status().as_u16())
                .unwrap_or(599);
            if status < 400 {
                let _ = engine.on_success(&mut ep);
                break;
            }
            let Ok(rec) = engine.on_failure(&mut ep, &Failure::http(status)) else {
                break;
            };
            println!("{queue}: {rec}");
            if !rec.should_retry() {
                break;
            }
            std::thread::sleep(rec.delay);
        }
        std::thread::sleep(Duration::from_millis(700));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let flaky = tiny_http::Server::http("127.0.0.1:0")?;
    let base = format!("http://{}", flaky.server_addr());
    std::thread::spawn(move || serve_flaky(flaky));

    let policy = Policy::from_json(
        r#"{"preset":"request","deadline":120,"classes":{"unavailable":{"max_attempts":12,"max_delay":10}}}"#,
    )?;
    let engine = Engine::new(policy)?;
    let config = AdminConfig {
        listen: std::env::var("SMARTRETRY_ADMIN_LISTEN").unwrap_or("127.0.0.1:9464".into()),
        token: Some(
            std::env::var("SMARTRETRY_ADMIN_TOKEN").unwrap_or("demo-token-change-me".into()),
        ),
        ..Default::default()
    };
    let admin = AdminServer::start(&engine, config)?;
    eprintln!("flaky server {base}; admin endpoint {}", admin.url());
    for queue in ["inventory", "payments", "search"] {
        let (e, b) = (engine.clone(), base.clone());
        std::thread::spawn(move || worker(e, b, queue));
    }
    let seconds: u64 = std::env::var("DEMO_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    std::thread::sleep(Duration::from_secs(seconds.min(365 * 86_400)));
    Ok(())
}
