//! The HTTP server thread (tiny_http): one request at a time, bodies capped, stopped on drop.

use crate::config::{AdminConfig, Listen};
use crate::routes::{handle, Request};
use smartretry::monitor::Monitor;
use smartretry::{Engine, Error, Result};
use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request body read (overrides and previews are small).
const MAX_BODY: u64 = 64 * 1024;

/// A running admin endpoint. Stops (and detaches its monitor) on `stop` or drop.
pub struct AdminServer {
    /// None once stopped.
    server: Option<Arc<tiny_http::Server>>,
    thread: Option<JoinHandle<()>>,
    monitor: Arc<Monitor>,
    url: String,
}

impl AdminServer {
    /// Attach a monitor to `engine` and serve it.
    pub fn start(engine: &Engine, config: AdminConfig) -> Result<AdminServer> {
        let listen = config.listen_at()?;
        let server = match &listen {
            Listen::Tcp(addr) => tiny_http::Server::http(addr),
            #[cfg(unix)]
            Listen::Unix(path) => tiny_http::Server::http_unix(path),
            #[cfg(not(unix))]
            Listen::Unix(_) => {
                return Err(Error::InvalidConfig(
                    "admin: Unix sockets need a Unix system".into(),
                ))
            }
        }
        .map_err(|e| Error::Io {
            path: config.listen.clone(),
            message: e.to_string(),
        })?;
        let server = Arc::new(server);
        let url = match (&listen, server.server_addr().to_ip()) {
            (Listen::Tcp(_), Some(addr)) => format!("http://{addr}"),
            _ => config.listen.clone(),
        };
        let monitor = Monitor::attach(engine, config.recent);
        let thread = {
            let (server, monitor, engine) = (server.clone(), monitor.clone(), engine.clone());
            let token = config.token.clone();
            std::thread::Builder::new()
                .name("smartretry-admin".into())
                .spawn(move || serve(&server, &engine, &monitor, token.as_deref()))
                .map_err(|e| Error::Io {
                    path: config.listen.clone(),
                    message: e.to_string(),
                })?
        };
        Ok(AdminServer {
            server: Some(server),
            thread: Some(thread),
            monitor,
            url,
        })
    }

    /// `http://127.0.0.1:PORT`, or `unix:/path` for a socket.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }

    pub fn stop(self) {}
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.monitor.detach();
        let Some(server) = self.server.take() else {
            return;
        };
        server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let addr = server.server_addr().to_ip();
        drop(server);
        if let Some(addr) = addr {
            wait_until_closed(addr);
        }
    }
}

/// tiny_http closes a TCP listener from its own accept thread, just after the server is
/// dropped: wait (at most a second) until the port refuses connections, so that a stopped
/// endpoint is closed when `stop` returns. Connections made meanwhile are reset at the close.
fn wait_until_closed(addr: std::net::SocketAddr) {
    let step = Duration::from_millis(5);
    for _ in 0..200 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Err(_) => return,
            Ok(probe) => drop(probe),
        }
        std::thread::sleep(step);
    }
}

fn serve(server: &tiny_http::Server, engine: &Engine, monitor: &Monitor, token: Option<&str>) {
    for mut rq in server.incoming_requests() {
        let (path, query) = match rq.url().split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (rq.url().to_string(), String::new()),
        };
        let authorization = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str().to_string());
        let mut body = String::new();
        let too_big = rq.body_length().is_some_and(|n| n as u64 > MAX_BODY);
        let read_ok = !too_big
            && rq
                .as_reader()
                .take(MAX_BODY)
                .read_to_string(&mut body)
                .is_ok();
        let reply = if read_ok {
            let req = Request {
                method: rq.method().as_str().to_ascii_uppercase(),
                path,
                query,
                authorization,
                body,
            };
            handle(engine, monitor, token, &req)
        } else {
            crate::routes::Reply {
                status: 413,
                content_type: "application/json",
                body: r#"{"error":"the body is too large or not UTF-8","code":"BAD_BODY"}"#.into(),
            }
        };
        let mut response =
            tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
        // Static ASCII: always a valid header.
        if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], reply.content_type) {
            response.add_header(h);
        }
        // A client that went away is not the server's problem.
        let _ = rq.respond(response);
    }
}
