'use strict';
// FleetStore against a real redis-server on an ephemeral port (scripts/test-node.sh installs
// it): two engines pool what they learned; a dead server is a coded error, never a crash.

const test = require('node:test');
const assert = require('node:assert/strict');
const { freePort, startRedis } = require('./redis.cjs');
const { Engine, ManualClock, FleetStore, SmartRetryError } = require('../lib/index.cjs');

function episodes(engine) {
  const bytes = engine.snapshot();
  const body = bytes.subarray(bytes.indexOf(10) + 1).toString();
  return JSON.parse(body).models.reduce((n, m) => n + m.episodes, 0);
}

function run(engine, clock, n) {
  for (let i = 0; i < n; i++) {
    const ep = engine.begin('q');
    const rec = engine.onFailure(ep, { status: 503 });
    clock.advance(rec.delay);
    engine.onSuccess(ep);
    clock.advance(60);
  }
}

test('two engines pool what they learned', async (t) => {
  const { url } = await startRedis(t);
  const clock = new ManualClock();
  const policy = { learning: { half_life_episodes: 1e9 } };
  const a = new Engine(policy, { clock });
  const b = new Engine(policy, { clock });
  const sa = new FleetStore(a, url, { namespace: 'node', background: false });
  const sb = new FleetStore(b, url, { namespace: 'node', background: false });
  run(a, clock, 4);
  run(b, clock, 6);
  for (let i = 0; i < 2; i++) { sa.syncNow(); sb.syncNow(); }
  assert.ok(Math.abs(episodes(a) - 10) < 1e-6, String(episodes(a)));
  assert.ok(Math.abs(episodes(b) - 10) < 1e-6, String(episodes(b)));
  assert.equal(sa.stats().peers, 1);
  assert.notEqual(sa.engineId, sb.engineId);
  sa.close();
  sb.close();
  assert.throws(() => sa.syncNow(), (e) => e instanceof SmartRetryError && e.code === 'INVALID_STATE');
});

test('an unreachable server is a coded error', async () => {
  const engine = new Engine(undefined, { clock: new ManualClock() });
  const store = new FleetStore(engine, `redis://127.0.0.1:${await freePort()}`, { background: false, ioTimeout: 0.2 });
  assert.throws(() => store.syncNow(), (e) => e instanceof SmartRetryError && e.code === 'FLEET_UNAVAILABLE');
  assert.equal(store.stats().failures, 1);
  store.close();
  assert.throws(() => new FleetStore(engine, 'http://nope'), (e) => e.code === 'INVALID_CONFIG');
  assert.throws(() => new FleetStore(engine, 'redis://127.0.0.1:1', { namespace: 'a{b}' }), (e) => e.code === 'INVALID_CONFIG');
});

const SHARED = {
  budget: { kind: 'ratio', ratio: 0, min_per_sec: 2, capacity: 4 },
  breaker: { consecutive_failures: 2, open_for: 30 },
};

function failOnce(engine, dependency) {
  const ep = engine.begin('payments');
  const rec = engine.onFailure(ep, dependency ? { status: 503, dependency } : { status: 503 });
  engine.abandon(ep);
  return rec.action === 'retry';
}

test('engines share one budget and open breakers', async (t) => {
  const { url } = await startRedis(t);
  const clock = new ManualClock();
  const a = new Engine(SHARED, { clock });
  const b = new Engine(SHARED, { clock });
  const opts = { namespace: 'node-shared', background: false, shareBudgets: 2, shareBreakers: true };
  const sa = new FleetStore(a, url, opts);
  const sb = new FleetStore(b, url, opts);
  // 20 s, a failing request on each engine every 100 ms, syncs every 500 ms: one budget of 4
  // tokens refilled at 2 per second for both (44 retries).
  let retries = 0;
  for (let tick = 0; tick < 200; tick++) {
    if (tick % 5 === 0) { sa.syncNow(); sb.syncNow(); }
    retries += Number(failOnce(a)) + Number(failOnce(b));
    clock.advance(0.1);
  }
  assert.ok(retries >= 35 && retries <= 45, String(retries));
  assert.ok(sa.stats().budgetRounds > 0);
  failOnce(a, 'db');
  failOnce(a, 'db');
  sa.syncNow();
  sb.syncNow();
  assert.equal(sb.stats().breakersOpened, 1);
  assert.equal(sa.stats().breakersOpened, 0);
  sa.close();
  sb.close();
  assert.throws(() => new FleetStore(a, url, { shareBudgets: 0 }), (e) => e.code === 'INVALID_CONFIG');
});
