'use strict';
// smartretry: retries that learn. CommonJS entry point.

const { Engine, getDefaultEngine, ManualClock, Episode, Recommendation, version } = require('./engine.cjs');
const { SmartRetryError, AbortError, GiveUpError } = require('./errors.cjs');
const { retry, retryBatch, sleep } = require('./retry.cjs');
const { failureFromError, isResponse } = require('./failure.cjs');
const { EngineBackoff, EngineBreaker } = require('./cockatiel.cjs');
const { pRetryOptions } = require('./p-retry.cjs');
const { Admin, logEvents, registerPromClient } = require('./ops.cjs');
const { FleetStore } = require('./fleet.cjs');
const { RetrySchedule } = require('./schedule.cjs');
const { bullmqRetry } = require('./bullmq.cjs');

module.exports = {
  Engine,
  ManualClock,
  Episode,
  Recommendation,
  getDefaultEngine,
  version,
  retry,
  retryBatch,
  sleep,
  failureFromError,
  isResponse,
  SmartRetryError,
  AbortError,
  GiveUpError,
  EngineBackoff,
  EngineBreaker,
  pRetryOptions,
  Admin,
  logEvents,
  registerPromClient,
  FleetStore,
  RetrySchedule,
  bullmqRetry,
};
