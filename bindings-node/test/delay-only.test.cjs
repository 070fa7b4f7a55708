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
