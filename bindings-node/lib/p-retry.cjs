'use strict';
// p-retry adoption: an options object. The engine decides in onFailedAttempt (and waits its
// delay there, abortable), shouldRetry reports its give-up (permanent error, attempts, budget,
// deadline), minTimeout is 0 so p-retry adds no wait of its own.

const { getDefaultEngine } = require('./engine.cjs');
const { recordError, sleep, waitForToken } = require('./retry.cjs');
const { attach } = require('./errors.cjs');
const { contextAt, refreshContext } = require('./learned.cjs');

/**
 * `const o = pRetryOptions(engine, { key, signal }); await pRetry(o.wrap(fn), o)`. One options
 * object per call (it holds the call's episode). `wrap` reports success to the engine and waits
 * for the adaptive rate limiter's token before every attempt; without it call `o.succeeded()`
 * after p-retry resolves. `context`: the learned tier's attempt context, an object or
 * `(attemptNumber) => context` (called by `wrap` as each attempt starts).
 */
function pRetryOptions(engine, options = {}) {
  engine ??= getDefaultEngine();
  const { signal } = options;
  const wait = options.sleep ?? sleep;
  const key = options.key ?? 'default';
  const episode = engine.begin(key, options.tenant, undefined, contextAt(options.context, 1));
  let last;
  const succeeded = () => {
    if (!episode.finished) engine.onSuccess(episode, options.dependency);
  };
  return {
    retries: options.retries ?? 1000,
    minTimeout: 0,
    maxTimeout: 0,
    factor: 1,
    randomize: false,
    signal,
    maxRetryTime: options.maxRetryTime,
    episode,
    succeeded,
    wrap: (fn) => async (attemptNumber) => {
      // A per-attempt context (a function) as this attempt starts; the first went to begin.
      if (attemptNumber > 1) refreshContext(episode, options.context, attemptNumber);
      // The adaptive rate limiter's token before every attempt (0 until the key is throttled).
      const tokenMs = engine.tokenMs(key, options.dependency);
      if (tokenMs > 0) await waitForToken(engine, tokenMs, wait, signal, episode);
      const value = await fn(attemptNumber);
      succeeded();
      return value;
    },
    async onFailedAttempt(context) {
      last = recordError(engine, episode, context.error, options);
      if (options.onFailedAttempt) await options.onFailedAttempt(context, last);
      if (!last.shouldRetry) {
        attach(context.error, last); // p-retry throws this error next: tell the give-up on it
        return;
      }
      if (context.retriesLeft <= 0) {
        // p-retry has no retries left: it will throw now, so do not wait.
        engine.abandon(episode);
        return;
      }
      const ms = last.delayMs;
      if (ms > 0) {
        try {
          await wait(ms, signal);
        } catch (e) {
          engine.abandon(episode);
          throw e;
        }
      }
    },
    shouldRetry() {
      return last === undefined || last.shouldRetry;
    },
  };
}

module.exports = { pRetryOptions };
