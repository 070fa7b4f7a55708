// smartretry: retries that learn. ES module entry point (the same objects as the CommonJS one).
import cjs from './index.cjs';

export const {
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
} = cjs;
export default cjs;
