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
