// End to end: a real HTTP server on 127.0.0.1 with scripted outages, called with fetch through
// retry(), the p-retry options and the cockatiel backoff. Windows are in manual-clock time (or
// by request count for cockatiel, which waits with real millisecond timers).
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pRetry from 'p-retry';
import { retry as cockatielRetry, handleWhen } from 'cockatiel';
import { Engine, ManualClock, retry, pRetryOptions, EngineBackoff } from '../lib/index.mjs';

const clock = new ManualClock();
const T0 = clock.now();
const counts = {};
// path -> (request number, seconds since T0) -> [status, headers]
const script = {
  // 503 during the first 8 s, then healthy.
  '/pay': (_n, t) => (t < 8 ? [503, {}] : [200, {}]),
  // 429 with Retry-After: 3 during the first 3 s of its window.
  '/rate': (_n, t) => (t < 13 ? [429, { 'retry-after': '3' }] : [200, {}]),
  // 429 without Retry-After for two requests.
  '/bare': (n) => (n <= 2 ? [429, {}] : [200, {}]),
  // cockatiel: two 503s then one 429 with a 20 ms Retry-After, by count.
  '/ck': (n) => (n <= 2 ? [503, {}] : n === 3 ? [429, { 'retry-after': '0.02' }] : [200, {}]),
  '/gone': () => [404, {}],
};

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  counts[req.url] = (counts[req.url] ?? 0) + 1;
  const [status, headers] = (script[path] ?? (() => [500, {}]))(counts[req.url], clock.now() - T0);
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(String(status));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
test.after(() => {
  server.closeAllConnections();
  server.close();
});

const policy = {
  learning: { enabled: false },
  classes: {
    unavailable: { strategy: { kind: 'constant', delay: 3 }, max_attempts: 6 },
    rate_limited: { strategy: { kind: 'constant', delay: 0.5 }, max_attempts: 6 },
  },
};
const sleep = (ms) => clock.advanceMs(ms);

test('retry(): 503 outage, 429 with and without Retry-After, 404', async () => {
  const engine = new Engine(policy, { clock });
  const reasons = [];
  const clamps = [];
  const onFailedAttempt = ({ recommendation }) => {
    reasons.push(recommendation.reason);
    clamps.push(...recommendation.clamps.map((c) => c.guardrail));
  };

  // 503 for 8 s: constant 3 s steps -> attempts at 0, 3, 6, 9 s.
  const pay = await retry(() => fetch(`${base}/pay`), { engine, key: 'pay', sleep, onFailedAttempt });
  assert.equal(pay.status, 200);
  assert.equal(counts['/pay'], 4);
  assert.ok(reasons.every((r) => /unavailable: constant backoff/.test(r)), reasons.join('; '));

  // 429 until t = 13 s with Retry-After: 3 (a floor over the 0.5 s strategy).
  reasons.length = 0;
  const rate = await retry(() => fetch(`${base}/rate`), { engine, key: 'rate', sleep, onFailedAttempt });
  assert.equal(rate.status, 200);
  assert.ok(reasons.length >= 1 && reasons.every((r) => /Retry-After/.test(r)), reasons.join('; '));
  assert.equal(counts['/rate'], reasons.length + 1);

  reasons.length = 0;
  const bare = await retry(() => fetch(`${base}/bare`), { engine, key: 'bare', sleep, onFailedAttempt });
  assert.equal(bare.status, 200);
  assert.equal(counts['/bare'], 3);
  assert.ok(reasons.every((r) => /rate_limited: constant backoff/.test(r)), reasons.join('; '));

  const gone = await retry(() => fetch(`${base}/gone`), { engine, key: 'gone', sleep });
  assert.equal(gone.status, 404);
  assert.equal(counts['/gone'], 1);

  const s = engine.stats();
  assert.equal(s.successes, 3);
  const failed = (counts['/pay'] - 1) + (counts['/rate'] - 1) + (counts['/bare'] - 1) + 1;
  assert.equal(s.failures, failed);
  assert.equal(s.retries, failed - 1);
  assert.equal(s.give_ups, 1);
});

test('p-retry options against the same server', async () => {
  const engine = new Engine(policy, { clock });
  const start = clock.now() - T0;
  // The /p/pay window is in absolute clock time and has passed: restart it with a new path.
  script['/pp'] = (_n, t) => (t < start + 5 ? [503, {}] : [200, {}]);
  const o = pRetryOptions(engine, { key: 'pay', sleep });
  const res = await pRetry(o.wrap(async () => {
    const r = await fetch(`${base}/pp`);
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status, headers: r.headers });
    return r;
  }), o);
  assert.equal(res.status, 200);
  assert.equal(counts['/pp'], 3, 'attempts at +0, +3, +6 s');
  const s = engine.stats();
  assert.deepEqual([s.failures, s.successes, s.successes_after_retry], [2, 1, 1]);
});

test('cockatiel backoff against the same server (real millisecond timers)', async () => {
  const engine = new Engine({
    learning: { enabled: false },
    classes: {
      unavailable: { strategy: { kind: 'constant', delay: 0.002 } },
      rate_limited: { strategy: { kind: 'constant', delay: 0.002 } },
    },
  });
  const backoff = new EngineBackoff(engine, { key: 'ck' });
  const policyCk = cockatielRetry(handleWhen(() => true), { maxAttempts: 10, backoff });
  backoff.attach(policyCk);
  const delays = [];
  policyCk.onRetry((e) => delays.push(e.delay));
  const res = await policyCk.execute(async () => {
    const r = await fetch(`${base}/ck`);
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status, headers: r.headers });
    return r;
  });
  assert.equal(res.status, 200);
  assert.equal(counts['/ck'], 4);
  assert.deepEqual(delays.slice(0, 2), [2, 2]);
  assert.ok(delays[2] >= 20, `Retry-After 0.02 s honoured: ${delays[2]}`);
  const s = engine.stats();
  assert.deepEqual([s.failures, s.successes, s.successes_after_retry], [3, 1, 1]);
});
