'use strict';
// Adoption by cockatiel (the real package): engine-driven backoff and an engine-backed breaker.
const test = require('node:test');
const assert = require('node:assert/strict');
const { retry, circuitBreaker, handleAll, CircuitState, BrokenCircuitError } = require('cockatiel');
const { Engine, EngineBackoff, EngineBreaker } = require('../lib/index.cjs');

// Real timers, millisecond delays (cockatiel waits with its own setTimeout).
const policy = (extra = {}) => ({
  learning: { enabled: false },
  classes: { unavailable: { strategy: { kind: 'constant', delay: 0.002 }, max_attempts: 5 } },
  ...extra,
});
const http = (status) => Object.assign(new Error(`HTTP ${status}`), { status });

test('IBackoffFactory: durations from the engine, outcomes fed back through events', async () => {
  const engine = new Engine(policy());
  const backoff = new EngineBackoff(engine, { key: 'orders' });
  const p = retry(handleAll, { maxAttempts: 10, backoff });
  backoff.attach(p);
  const delays = [];
  p.onRetry((e) => delays.push(e.delay));
  let n = 0;
  const value = await p.execute(() => {
    if (++n < 3) throw http(503);
    return 'done';
  });
  assert.equal(value, 'done');
  assert.deepEqual(delays, [2, 2]);
  let s = engine.stats();
  assert.deepEqual([s.failures, s.retries, s.successes, s.successes_after_retry], [2, 2, 1, 1]);
  // A first-attempt success still reaches the engine.
  assert.equal(await p.execute(() => 'at once'), 'at once');
  s = engine.stats();
  assert.equal(s.successes, 2);
});

test('the engine stops cockatiel early: permanent errors and attempt limits', async () => {
  const engine = new Engine(policy());
  const backoff = new EngineBackoff(engine, { key: 'orders' });
  const p = retry(handleAll, { maxAttempts: 50, backoff });
  backoff.attach(p);
  let n = 0;
  const notFound = http(404);
  await assert.rejects(p.execute(() => { n++; throw notFound; }), (e) => e === notFound && e.recommendation.action === 'give_up');
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(p.execute(() => { n++; throw http(503); }), { status: 503 });
  assert.equal(n, 5, 'the engine allows 5 attempts for unavailable here');
  assert.equal(engine.stats().give_ups, 2);
});

test('concurrent executions keep their own episodes', async () => {
  const engine = new Engine(policy());
  const backoff = new EngineBackoff(engine, { key: 'orders' });
  const p = retry(handleAll, { maxAttempts: 10, backoff });
  backoff.attach(p);
  const run = (fails) => {
    let n = 0;
    return p.execute(() => {
      if (n++ < fails) throw http(503);
      return n;
    });
  };
  assert.deepEqual(await Promise.all([run(1), run(2), run(0)]), [2, 3, 1]);
  const s = engine.stats();
  assert.deepEqual([s.failures, s.successes, s.successes_after_retry], [3, 3, 2]);
});

test('IBreaker backed by the engine breaker, shared with the engine decisions', async () => {
  const engine = new Engine(policy({ breaker: { consecutive_failures: 2, open_for: 60 } }));
  const breaker = new EngineBreaker(engine, { dependency: 'db' });
  const cb = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker });
  await assert.rejects(cb.execute(() => { throw http(503); }), { status: 503 });
  assert.equal(cb.state, CircuitState.Closed);
  await assert.rejects(cb.execute(() => { throw http(503); }), { status: 503 });
  assert.equal(cb.state, CircuitState.Open);
  assert.equal(engine.breakerState('db'), 'open');
  assert.equal(breaker.state.state, 'open');
  await assert.rejects(cb.execute(() => 'never runs'), (e) => e instanceof BrokenCircuitError);
  // The engine's own retries against the dependency wait for the breaker.
  const rec = engine.onFailure(engine.begin('db'), { status: 503 });
  assert.ok(rec.clamps.some((c) => c.guardrail === 'circuit_breaker'), String(rec));
  assert.ok(rec.delay >= 59);
  // A success closes it.
  assert.equal(engine.recordDependency('db', true), 'closed');
});
