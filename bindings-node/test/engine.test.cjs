'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Engine, ManualClock, SmartRetryError, version } = require('../lib/index.cjs');
const { manualEngine } = require('./helpers.cjs');

test('version and a recommendation with its reason', () => {
  assert.match(version(), /^\d+\.\d+\.\d+/);
  const { engine, clock } = manualEngine(null);
  const ep = engine.begin('payments', 'acme');
  const rec = engine.onFailure(ep, { status: 503 });
  assert.equal(rec.action, 'retry');
  assert.equal(rec.shouldRetry, true);
  assert.equal(rec.class, 'unavailable');
  assert.equal(rec.tier, 'heuristic');
  assert.equal(rec.attempt, 1);
  assert.ok(rec.delay > 0 && Math.abs(rec.delayMs - rec.delay * 1000) < 1e-6);
  assert.match(String(rec), /^retry in .* \[heuristic\] unavailable/);
  assert.equal(rec.toJSON().class, 'unavailable');
  assert.equal(ep.failures, 1);
  assert.equal(ep.class, 'unavailable');
  clock.advance(rec.delay);
  engine.onSuccess(ep);
  assert.equal(ep.finished, true);
  const s = engine.stats();
  assert.equal(s.successes, 1);
  assert.equal(s.successes_after_retry, 1);
  assert.equal(s.retries, 1);
});

test('permanent failures stop at once; Retry-After is a floor', () => {
  const { engine } = manualEngine(null);
  const ep = engine.begin('users');
  const rec = engine.onFailure(ep, { status: 404 });
  assert.equal(rec.action, 'give_up');
  assert.equal(rec.delay, 0);
  assert.equal(ep.finished, true);
  const ep2 = engine.begin('users');
  const r2 = engine.onHttpFailure(ep2, 429, '120');
  assert.equal(r2.class, 'rate_limited');
  assert.ok(r2.delay >= 120, `delay ${r2.delay}`);
  assert.match(r2.reason, /Retry-After/);
  // A malformed header on the fetch path is ignored; on the general path it is an error.
  assert.equal(engine.onHttpFailure(engine.begin('users'), 503, 'soon').class, 'unavailable');
  assert.throws(() => engine.onFailure(engine.begin('users'), { status: 503, retryAfterHeader: 'soon' }),
    (e) => e instanceof SmartRetryError && e.code === 'INVALID_RETRY_AFTER');
});

test('engine errors are SmartRetryError with a code', () => {
  const { engine } = manualEngine();
  const cases = [
    [() => engine.begin(''), 'INVALID_KEY'],
    [() => new Engine('{not json'), 'INVALID_JSON'],
    [() => engine.classify({ class: 'nonsense' }), 'UNKNOWN_CLASS'],
    [() => engine.setOverride({ queue: 'q' }, { max_attempts: 0 }), 'INVALID_CONFIG'],
    [() => engine.restore(Buffer.from('garbage')), 'SNAPSHOT_CORRUPT'],
    [() => engine.onFailure(engine.begin('q'), { status: 70000 }), 'INVALID_FAILURE'],
  ];
  for (const [fn, code] of cases) {
    assert.throws(fn, (e) => e instanceof SmartRetryError && e.code === code && !e.message.startsWith('['), code);
  }
  const ep = engine.begin('q');
  engine.onSuccess(ep);
  assert.throws(() => engine.onSuccess(ep), { name: 'SmartRetryError', code: 'INVALID_STATE' });
  assert.throws(() => new ManualClock(-1));
});

test('recommend is a dry run; record records without deciding', () => {
  const { engine } = manualEngine();
  const ep = engine.begin('q');
  const dry = engine.recommend(ep, { code: 'ECONNRESET' });
  assert.equal(dry.class, 'connection');
  assert.equal(ep.failures, 0);
  const c = engine.record(ep, { code: 'ECONNRESET' });
  assert.deepEqual([c.class, c.disposition], ['connection', 'retry']);
  assert.equal(ep.failures, 1);
  assert.equal(engine.classify({ status: 401 }).class, 'auth');
  assert.equal(engine.classify({ grpc: 14 }).class, 'unavailable');
});

test('preview, overrides per queue and tenant', () => {
  const { engine } = manualEngine();
  const plan = engine.preview('q', { status: 503 }, { steps: 20 });
  assert.equal(plan.length, 6);
  assert.equal(plan.at(-1).action, 'give_up');
  assert.equal(engine.stats().failures, 0, 'preview records nothing');
  engine.setOverride({ tenant: 'noisy' }, { max_attempts: 2, fixed_delay: 0.005 }, 'unavailable');
  const ep = engine.begin('q', 'noisy');
  const rec = engine.onFailure(ep, { status: 503 });
  assert.equal(rec.tier, 'operator');
  assert.equal(rec.delay, 0.005);
  assert.equal(engine.onFailure(ep, { status: 503 }).action, 'give_up');
  assert.deepEqual(engine.overrides().map((o) => [o.scope, o.name, o.class]), [['tenant', 'noisy', 'unavailable']]);
  engine.clearOverride({ tenant: 'noisy' });
  assert.deepEqual(engine.overrides(), []);
});

test('snapshots round-trip through a buffer and a file', (t) => {
  const clock = new ManualClock();
  const engine = new Engine({ seed: 1 }, { clock });
  for (let i = 0; i < 5; i++) {
    const ep = engine.begin('jobs');
    const rec = engine.onFailure(ep, { status: 503 });
    clock.advance(rec.delay);
    engine.onSuccess(ep);
  }
  const snap = engine.snapshot();
  assert.ok(Buffer.isBuffer(snap) && snap.length > 0);
  const other = new Engine({ seed: 1 }, { clock });
  other.restore(snap);
  assert.ok(other.stats().models > 0);
  assert.ok(other.recoveryCurve('jobs', 'unavailable').length > 0);
  const path = require('node:path').join(require('node:os').tmpdir(), `smartretry-${process.pid}.snap`);
  t.after(() => require('node:fs').rmSync(path, { force: true }));
  engine.saveSnapshot(path);
  const third = new Engine(null, { clock });
  third.loadSnapshot(path);
  third.mergeSnapshot(path);
  assert.equal(third.stats().models, other.stats().models);
  assert.throws(() => third.loadSnapshot(path + '.missing'), { code: 'IO' });
});

test('observer events arrive through the event loop', async () => {
  const { engine } = manualEngine();
  const seen = [];
  const done = new Promise((resolve) => {
    engine.onEvent((ev) => {
      seen.push(ev.type);
      if (ev.type === 'success') resolve();
    });
  });
  const ep = engine.begin('q');
  engine.onFailure(ep, { status: 503 });
  engine.onSuccess(ep);
  await done;
  assert.deepEqual(seen, ['attempt', 'decision', 'success']);
  engine.clearObservers();
});

test('manual clock and policy round trip', () => {
  const clock = new ManualClock(100);
  clock.advance(5);
  clock.advanceMs(500);
  assert.equal(clock.now(), 105.5);
  assert.equal(clock.set(50), 105.5);
  const engine = new Engine({ deadline: 30 }, { clock });
  assert.equal(engine.now(), 105.5);
  assert.equal(engine.policy().deadline, 30);
  engine.setPolicy({ deadline: 10 });
  assert.equal(engine.policy().deadline, 10);
});
