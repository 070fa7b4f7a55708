// Adoption by p-retry (the real package) through an options object.
import test from 'node:test';
import assert from 'node:assert/strict';
import pRetry from 'p-retry';
import { pRetryOptions } from '../lib/index.mjs';
import helpers from './helpers.cjs';

const { manualEngine } = helpers;
const http = (status) => Object.assign(new Error(`HTTP ${status}`), { status });

test('engine delays with minTimeout 0; success fed back through wrap', async () => {
  const { engine, sleep } = manualEngine();
  const waits = [];
  const o = pRetryOptions(engine, { key: 'mail', sleep: (ms) => { waits.push(ms); sleep(ms); } });
  assert.equal(o.minTimeout, 0);
  let n = 0;
  const value = await pRetry(o.wrap(async () => {
    if (++n < 3) throw http(503);
    return 'sent';
  }), o);
  assert.equal(value, 'sent');
  assert.equal(waits.length, 2);
  assert.ok(waits.every((ms) => ms > 0 && ms <= 10));
  const s = engine.stats();
  assert.deepEqual([s.failures, s.retries, s.successes, s.successes_after_retry], [2, 2, 1, 1]);
  assert.equal(o.episode.finished, true);
});

test('shouldRetry reports the engine give-up', async () => {
  const { engine, sleep } = manualEngine();
  let n = 0;
  const o = pRetryOptions(engine, { key: 'mail', sleep });
  await assert.rejects(pRetry(o.wrap(() => { n++; throw http(400); }), o), (e) => e.status === 400 && e.recommendation.action === 'give_up');
  assert.equal(n, 1);
  n = 0;
  const o2 = pRetryOptions(engine, { key: 'mail', sleep });
  await assert.rejects(pRetry(o2.wrap(() => { n++; throw http(503); }), o2), { status: 503 });
  assert.equal(n, 6, 'the engine allows 6 attempts for unavailable here');
});

test('retriesLeft: no wait when p-retry has no retries left', async () => {
  const { engine, sleep } = manualEngine();
  const waits = [];
  const o = pRetryOptions(engine, { key: 'mail', retries: 1, sleep: (ms) => { waits.push(ms); sleep(ms); } });
  let n = 0;
  await assert.rejects(pRetry(o.wrap(() => { n++; throw http(503); }), o), { status: 503 });
  assert.equal(n, 2);
  assert.equal(waits.length, 1);
  assert.equal(o.episode.finished, true);
});

test('signal aborts the engine wait at once', async () => {
  const { engine } = manualEngine({ classes: { unavailable: { min_delay: 3600, max_delay: 3600 } } });
  const controller = new AbortController();
  const reason = new Error('stop');
  const o = pRetryOptions(engine, { key: 'mail', signal: controller.signal });
  const running = pRetry(o.wrap(() => {
    setImmediate(() => controller.abort(reason));
    throw http(503);
  }), o);
  await assert.rejects(running, (e) => e === reason);
});
