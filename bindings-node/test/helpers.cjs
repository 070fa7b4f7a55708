'use strict';
// Shared test fixtures: a manual-clock engine with small, deterministic heuristic delays.

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

module.exports = { FAST_POLICY, manualEngine };
