//! A real `redis-server` for the tests, on an ephemeral port and a temporary directory, that a
//! test can kill, restart, flush and pause. Dropped (even by a failing test), it kills the
//! server. `scripts/test-redis.sh` installs redis-server when it is missing.

#![allow(dead_code)]

use smartretry::{Clock, Engine, Failure, ManualClock};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free local port")
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Start (again) on the same port, empty (no persistence), and wait until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server not found: run scripts/test-redis.sh (it installs it)");
        self.child = Some(child);
        // Readiness: poll until the server accepts a PING (a process starting, not a timer).
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.ping().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn connection(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(self.url())?;
        let c = client.get_connection_with_timeout(Duration::from_secs(1))?;
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        Ok(c)
    }

    fn ping(&self) -> redis::RedisResult<String> {
        redis::cmd("PING").query(&mut self.connection()?)
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn flush(&self) {
        let _: () = redis::cmd("FLUSHALL")
            .query(&mut self.connection().expect("connect"))
            .expect("FLUSHALL");
    }

    /// Hold every write for `ms` milliseconds (CLIENT PAUSE WRITE): a slow server. (ALL would
    /// hold the UNPAUSE too.)
    pub fn pause(&self, ms: u64) {
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(ms)
            .arg("WRITE")
            .query(&mut self.connection().expect("connect"))
            .expect("CLIENT PAUSE");
    }

    /// Serve clients again at once.
    pub fn unpause(&self) {
        let _: () = redis::cmd("CLIENT")
            .arg("UNPAUSE")
            .query(&mut self.connection().expect("connect"))
            .expect("CLIENT UNPAUSE");
    }

    pub fn query<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> T {
        cmd.query(&mut self.connection().expect("connect"))
            .expect("query")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One all-or-nothing outage of `outage` seconds (HTTP 503 until then, success after), on the
/// manual clock. Returns whether it ended in success.
pub fn outage(e: &Engine, clock: &ManualClock, key: &str, outage: f64) -> bool {
    let mut ep = e.begin(key, None).expect("begin");
    let start = clock.now();
    loop {
        if ep.attempts() > 0 && (clock.now() - start).as_secs_f64() >= outage {
            e.on_success(&mut ep).expect("success");
            return true;
        }
        let r = e.on_failure(&mut ep, &Failure::http(503)).expect("failure");
        if !r.should_retry() {
            return false;
        }
        clock.advance(r.delay);
    }
}

/// Deterministic uniform draws in [0, 1).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
