'use strict';
// The "delay only" native call retry() uses on its hot path: the same decision as onFailure,
// answered as a number of milliseconds (-1: stop), with no Recommendation object.
const test = require('node:test');
const assert = require('node:assert/strict');
const { manualEngine } = require('./helpers.cjs');

test('onFailureDelayMs answers what onFailure would, as milliseconds or -1 to stop', () => {
  const a = manualEngine();
  const b = manualEngine();
  const full = a.engine.begin('q');
  const fast = b.engine.begin('q');
  for (;;) {
    const rec = a.engine.onFailure(full, { status: 503 });
    const ms = b.engine.native.onFailureDelayMs(fast, { status: 503 });
    if (!rec.shouldRetry) {
      assert.equal(ms, -1);
      assert.equal(fast.finished, true);
      break;
    }
    assert.equal(ms, rec.delayMs);
  }
  assert.throws(() => b.engine.native.onFailureDelayMs(fast, { status: 503 }));
});

test('the delay-only call keeps the recommendation that stopped the episode, once', () => {
  const { engine } = manualEngine();
  const ep = engine.begin('q');
  let ms;
  do ms = engine.onFailureDelayMs(ep, { status: 404 });
  while (ms >= 0);
  const rec = ep.takeStopRecommendation();
  assert.equal(rec.shouldRetry, false);
  assert.equal(rec.class, 'not_found');
  assert.equal(ep.takeStopRecommendation(), null);
});

test('retry() attaches the stopping recommendation to the rethrown error on the delay-only path', async () => {
  const { engine } = manualEngine();
  const { retry } = require('../lib/index.cjs');
  const err = Object.assign(new Error('gone'), { status: 404 });
  await assert.rejects(
    retry(() => { throw err; }, { engine, key: 'q' }),
    (e) => e === err && e.recommendation.shouldRetry === false && e.recommendation.class === 'not_found',
  );
});

test('episode handles: the same decisions as an Episode object, closed once, stale handles refused', () => {
  const a = manualEngine();
  const b = manualEngine();
  const ep = a.engine.begin('q');
  const h = b.engine.beginHandle('q');
  assert.equal(typeof h, 'number');
  assert.equal(b.engine.openHandles, 1);
  for (let i = 0; i < 3; i++) {
    assert.equal(b.engine.onFailureDelayMs(h, { status: 503 }), a.engine.onFailureDelayMs(ep, { status: 503 }));
  }
  // A failure that is not plain (Retry-After header) takes the object path on a handle too.
  assert.equal(
    b.engine.onFailureDelayMs(h, { status: 429, retryAfterHeader: '2' }),
    a.engine.onFailureDelayMs(ep, { status: 429, retryAfterHeader: '2' }),
  );
  b.engine.onSuccessHandle(h);
  a.engine.onSuccess(ep);
  assert.deepEqual(b.engine.stats(), a.engine.stats());
  assert.equal(b.engine.openHandles, 0);
  // Closed: every use is INVALID_STATE (handles are never reused for a new episode).
  const again = b.engine.beginHandle('q');
  for (const stale of [h, -1, 1.5, NaN, 2 ** 60]) {
    assert.throws(() => b.engine.onFailureDelayMs(stale, { status: 503 }), (e) => e.code === 'INVALID_STATE', String(stale));
    assert.throws(() => b.engine.onSuccessHandle(stale), (e) => e.code === 'INVALID_STATE');
    assert.equal(b.engine.abandonHandle(stale), false);
  }
  assert.notEqual(again, h);
  // Taken as an object: the handle is closed, the episode goes on as the object.
  b.engine.onFailureDelayMs(again, { status: 503 });
  const obj = b.engine.takeEpisode(again);
  assert.equal(obj.failures, 1);
  assert.equal(b.engine.openHandles, 0);
  assert.throws(() => b.engine.takeEpisode(again), (e) => e.code === 'INVALID_STATE');
  b.engine.onSuccess(obj);
  // Bad arguments are coded errors, and open no handle.
  assert.throws(() => b.engine.beginHandle(''), (e) => e.code === 'INVALID_KEY');
  assert.throws(() => b.engine.beginHandle('q', undefined, undefined, { queueDepth: -1 }), (e) => e.code === 'INVALID_CONFIG');
  assert.equal(b.engine.openHandles, 0);
});

test('the first failure opens its handle in the same call: the same decisions, nothing opened when refused', () => {
  const native = require('../index.js');
  const a = manualEngine();
  const b = manualEngine();
  const n = native.engineKeyNumber(b.engine.id, 'q');
  for (let i = 0; i < 5; i++) {
    const h = 8_000_000 + i;
    const ep = a.engine.begin('q');
    const ms = native.enginePlainFailureDelayMsHandle(b.engine.id, h, undefined, 'ETIMEDOUT', undefined, 'timed out', undefined, n);
    assert.equal(ms, a.engine.onFailureDelayMs(ep, { code: 'ETIMEDOUT', message: 'timed out' }));
    assert.equal(b.engine.openHandles, 1);
    assert.equal(b.engine.onFailureDelayMs(h, { status: 503 }), a.engine.onFailureDelayMs(ep, { status: 503 }));
    b.engine.onSuccessHandle(h);
    a.engine.onSuccess(ep);
  }
  assert.deepEqual(b.engine.stats(), a.engine.stats());
  // A handle already open, a refused failure, a handle that is not a whole number from 1: each
  // a coded error, and nothing opened or learned.
  native.engineBeginHandleKey(b.engine.id, 8_100_000, n);
  assert.throws(() => native.enginePlainFailureDelayMsHandle(b.engine.id, 8_100_000, 503, undefined, undefined, undefined, undefined, n), /\[INVALID_STATE\] handle 8100000 is already open/);
  b.engine.abandonHandle(8_100_000);
  assert.throws(() => native.enginePlainFailureDelayMsHandle(b.engine.id, 8_100_001, 700, undefined, undefined, undefined, undefined, n), /INVALID_FAILURE/);
  for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) {
    assert.throws(() => native.enginePlainFailureDelayMsHandle(b.engine.id, bad, 503, undefined, undefined, undefined, undefined, n), /INVALID_ARGUMENT/, String(bad));
  }
  assert.equal(b.engine.openHandles, 0);
  assert.equal(b.engine.stats().failures, a.engine.stats().failures);
});

test('retry() leaves no handle open, whatever ends the call', async () => {
  const { engine, sleep } = manualEngine();
  const { retry } = require('../lib/index.cjs');
  const boom = () => Object.assign(new Error('busy'), { status: 503 });
  // Success after failures, and the episode read mid-way (the handle becomes the object).
  let n = 0;
  let seen = null;
  assert.equal(await retry((attempt, ctx) => {
    if (attempt === 3) seen = [ctx.episode, ctx.episode.failures];
    if (++n < 4) throw boom();
    return 'ok';
  }, { engine, key: 'q', sleep }), 'ok');
  assert.equal(seen[1], 2);
  assert.equal(seen[0].attempts, 4); // the object the handle became saw the episode to its end
  assert.equal(seen[0].finished, true);
  // Give-up, with the stopping recommendation attached.
  await assert.rejects(retry(() => { throw boom(); }, { engine, key: 'q', sleep }), (e) => e.recommendation.shouldRetry === false);
  // A wait that throws (abort), a callback that throws, a failure the caller's translator refuses.
  const ac = new AbortController();
  await assert.rejects(retry(() => { throw boom(); }, { engine, key: 'q', signal: ac.signal, sleep: () => { ac.abort(new Error('stop')); throw ac.signal.reason; } }), /stop/);
  await assert.rejects(retry(() => { throw boom(); }, { engine, key: 'q', sleep, failure: () => ({ status: 700 }) }), (e) => e.code === 'INVALID_FAILURE');
  let m = 0;
  await assert.rejects(retry(() => {
    if (++m === 1) throw boom();
    return 'x';
  }, { engine, key: 'q', sleep, dependency: 'db', isFailure: () => { throw new Error('caller bug'); } }), /caller bug/);
  assert.equal(engine.openHandles, 0);
});

test('the hot path by the engine\'s number: the same engine, a number that names none refused', () => {
  const native = require('../index.js');
  const a = manualEngine();
  const b = manualEngine();
  assert.notEqual(a.engine.id, b.engine.id);
  native.engineSucceed(a.engine.id, 'q', undefined, undefined);
  assert.equal(a.engine.stats().successes, 1);
  assert.equal(b.engine.stats().successes, 0);
  const h = 7_000_001;
  native.engineBeginHandle(b.engine.id, h, 'q', undefined, undefined, undefined);
  // A handle belongs to its engine's table: another engine does not know it.
  assert.throws(() => native.engineOnSuccessHandle(a.engine.id, h, undefined), /INVALID_STATE/);
  native.engineOnSuccessHandle(b.engine.id, h, undefined);
  assert.equal(b.engine.stats().successes, 1);
  for (const bad of [0, -1, 1.5, 2 ** 52, NaN]) {
    assert.throws(() => native.engineSucceed(bad, 'q', undefined, undefined), /INVALID_STATE/, String(bad));
  }
  assert.throws(() => native.engineSucceed(a.engine.id, '', undefined, undefined), /INVALID_KEY/);
});
