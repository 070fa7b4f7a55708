'use strict';
// Shared test fixtures: a manual-clock engine with small, deterministic heuristic delays.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');
const { Engine, ManualClock } = require('../lib/index.cjs');

/** Heuristic only (no learning, so decisions are reproducible), millisecond delays. */
const FAST_POLICY = {
  seed: 7,
  learning: { enabled: false },
  classes: {
    unavailable: { max_attempts: 6, max_delay: 0.01 },
    rate_limited: { max_attempts: 6, max_delay: 0.01 },
    server_error: { max_attempts: 4, max_delay: 0.01 },
    timeout: { max_attempts: 3, max_delay: 0.01 },
    connection: { max_attempts: 4, max_delay: 0.01 },
    unknown: { max_attempts: 3, max_delay: 0.01 },
  },
};

function manualEngine(policy = FAST_POLICY) {
  const clock = new ManualClock();
  const engine = new Engine(policy, { clock });
  // Waiting on a manual clock: time moves, nothing sleeps.
  const sleep = (ms) => {
    clock.advanceMs(ms);
  };
  return { clock, engine, sleep };
}

/**
 * A fresh directory under the system's temporary directory, removed with everything in it once
 * the calling test file's tests have run (so a test run leaves nothing behind in /tmp).
 */
function scratchDir(prefix = 'smartretry-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

module.exports = { FAST_POLICY, manualEngine, scratchDir };
