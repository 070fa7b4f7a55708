//! The throttling server: a token bucket that admits a request when it holds a token and
//! throttles it (HTTP 429, no Retry-After) otherwise. It never queues.

#[derive(Debug, Clone)]
pub struct Server {
    /// Tokens per second: the requests per second it admits in the long run.
    rate: f64,
    /// Most tokens held: the burst it admits after a quiet spell.
    burst: f64,
    tokens: f64,
    last: f64,
}

impl Server {
    /// A server that starts full at t = 0.
    pub fn new(rate: f64, burst: f64) -> Server {
        Server {
            rate,
            burst,
            tokens: burst,
            last: 0.0,
        }
    }

    /// A request arriving at `t` (never earlier than the previous one): admitted or throttled.
    pub fn admit(&mut self, t: f64) -> bool {
        let dt = (t - self.last).max(0.0);
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = self.last.max(t);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_the_burst_then_the_rate() {
        let mut s = Server::new(50.0, 50.0);
        let burst = (0..100).filter(|_| s.admit(0.0)).count();
        assert_eq!(burst, 50);
        // One second later: 50 more tokens, no more.
        let next = (0..100).filter(|_| s.admit(1.0)).count();
        assert_eq!(next, 50);
        // Steady 100 req/s for 10 s: half get through.
        let admitted = (0..1000)
            .filter(|i| s.admit(1.0 + f64::from(*i) / 100.0))
            .count();
        assert!((495..=505).contains(&admitted), "{admitted}");
    }
}
