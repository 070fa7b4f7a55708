// The adaptive client rate limiter from Node: the native methods, retry(), and the p-retry and
// cockatiel adapters take the token before every attempt (first ones included), on a manual
// clock (waiting advances it).
import test from 'node:test';
import assert from 'node:assert/strict';
import pRetry from 'p-retry';
import { retry as cockatielRetry, handleAll } from 'cockatiel';
import { retry, pRetryOptions, EngineBackoff } from '../lib/index.mjs';
import helpers from './helpers.cjs';

const { FAST_POLICY, manualEngine } = helpers;
const KEY = 'api';

/** A manual-clock engine with the limiter on: 20 calls/s for 3 s, then a throttle. */
function throttled() {
  const m = manualEngine({ ...FAST_POLICY, rate_limit: {} });
  for (let i = 0; i < 60; i++) {
    m.clock.advance(m.engine.acquire(KEY));
    m.engine.succeed(KEY);
    m.clock.advance(0.05);
  }
  m.engine.onFailure(m.engine.begin(KEY), { status: 429 });
  return m;
}

test('zero until throttled; off without a rate_limit policy', () => {
  const { engine } = manualEngine();
  for (let i = 0; i < 30; i++) engine.succeed(KEY);
  engine.onFailure(engine.begin(KEY), { status: 429 });
  for (let i = 0; i < 30; i++) assert.equal(engine.acquire(KEY), 0);
  const on = manualEngine({ ...FAST_POLICY, rate_limit: {} }).engine;
  assert.equal(on.acquire(KEY), 0);
});

test('a throttle queues calls; acquireWithin takes nothing it cannot use', () => {
  const { engine } = throttled();
  const waits = Array.from({ length: 30 }, () => engine.acquire(KEY));
  assert.deepEqual(waits, [...waits].sort((a, b) => a - b));
  assert.ok(waits[29] > 1, `${waits[29]}`);
  const ms = engine.acquireMs(KEY);
  assert.ok(ms > waits[29] * 1000);
  assert.equal(engine.acquireWithin(KEY, 0.001), null);
  assert.ok(engine.acquireWithin(KEY, 1e6) > ms / 1000);
  assert.equal(engine.acquire('other'), 0);
});

test('bad input is a coded error', () => {
  const { engine } = manualEngine({ ...FAST_POLICY, rate_limit: {} });
  assert.throws(() => engine.acquire(''), (e) => e.code === 'INVALID_KEY');
  assert.throws(() => engine.acquire(KEY, 'bad\ndep'), (e) => e.code === 'INVALID_KEY');
  assert.throws(() => engine.acquireWithin(KEY, -1), (e) => e.code === 'INVALID_DURATION');
  assert.throws(() => manualEngine({ rate_limit: { beta: 2 } }), (e) => e.code === 'INVALID_CONFIG');
});

test('retry() waits for the token before every attempt', async () => {
  const { engine, clock, sleep } = throttled();
  const start = clock.now();
  const at = [];
  for (let i = 0; i < 30; i++) {
    await retry(() => at.push(clock.now()), { engine, key: KEY, sleep });
  }
  assert.ok(clock.now() - start > 1, `${clock.now() - start}`);
  assert.ok(at[29] - at[0] > 1);
});

test('p-retry: wrap takes the token before every attempt', async () => {
  const { engine, clock, sleep } = throttled();
  const start = clock.now();
  for (let i = 0; i < 30; i++) {
    const o = pRetryOptions(engine, { key: KEY, sleep });
    await pRetry(o.wrap(async () => 'ok'), o);
  }
  assert.ok(clock.now() - start > 1, `${clock.now() - start}`);
});

test('cockatiel: rateLimited takes the token before every attempt', async () => {
  const { engine, clock, sleep } = throttled();
  const backoff = new EngineBackoff(engine, { key: KEY, sleep });
  const p = cockatielRetry(handleAll, { maxAttempts: 3, backoff });
  backoff.attach(p);
  const start = clock.now();
  for (let i = 0; i < 30; i++) {
    assert.equal(await p.execute(backoff.rateLimited(() => 'ok')), 'ok');
  }
  assert.ok(clock.now() - start > 1, `${clock.now() - start}`);
});

test('no token call while the policy has no rate limiting; a bad key still fails first', async () => {
  const { engine } = manualEngine();
  let calls = 0;
  const acquireMs = engine.native.acquireMs.bind(engine.native);
  engine.native.acquireMs = (...args) => {
    calls++;
    return acquireMs(...args);
  };
  assert.equal(engine.limiting, false);
  for (let i = 0; i < 5; i++) assert.equal(await retry(() => i, { engine, key: KEY }), i);
  assert.equal(calls, 1, 'the key is checked once, then no token call while off');
  let ran = false;
  await assert.rejects(
    retry(() => { ran = true; }, { engine, key: '' }),
    (e) => e.code === 'INVALID_KEY',
  );
  assert.equal(ran, false, 'a bad key ran the attempt');

  // Turned on: every attempt takes its token again; the flag follows succeed() too.
  engine.setPolicy({ ...FAST_POLICY, rate_limit: {} });
  assert.equal(engine.limiting, true);
  calls = 0;
  for (let i = 0; i < 3; i++) await retry(() => i, { engine, key: KEY });
  assert.equal(calls, 3);
  // A call that fails once takes one token per attempt, whether or not the first had to wait.
  const failOnce = () => {
    let n = 0;
    return () => {
      if (n++ === 0) throw Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
      return n;
    };
  };
  calls = 0;
  assert.equal(await retry(failOnce(), { engine, key: KEY }), 2);
  assert.equal(calls, 2);
  const slow = throttled();
  // Spend the tokens there are, so that the next attempt has to wait for one.
  for (let i = 0; i < 1000 && slow.engine.acquireMs(KEY) === 0; i++);
  const slowAcquire = slow.engine.native.acquireMs.bind(slow.engine.native);
  let slowCalls = 0;
  let waits = 0;
  slow.engine.native.acquireMs = (...args) => {
    slowCalls++;
    return slowAcquire(...args);
  };
  const countedSleep = (ms, signal) => {
    waits++;
    return slow.sleep(ms, signal);
  };
  assert.equal(await retry(failOnce(), { engine: slow.engine, key: KEY, sleep: countedSleep }), 2);
  assert.equal(slowCalls, 2, 'a token taken twice for one attempt');
  assert.ok(waits >= 1, 'the throttled first attempt did not wait');
  engine.native.setPolicy(JSON.stringify(FAST_POLICY)); // as the admin endpoint would
  assert.equal(engine.limiting, true, 'not seen before the next success');
  await retry(() => 1, { engine, key: KEY });
  assert.equal(engine.limiting, false, 'succeed() did not bring the flag');
});
