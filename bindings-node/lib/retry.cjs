'use strict';
// The promise-first front: retry(fn, options) with AbortSignal, fetch Response handling and no
// timer at all for a zero delay; retryBatch for retrying only the failed items of a batch.

const { getDefaultEngine } = require('./engine.cjs');
const { AbortError, GiveUpError, translate } = require('./errors.cjs');
const { failureFromError, isResponse, header } = require('./failure.cjs');

/** Wait `ms`, rejecting at once with the signal's reason when it aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Record a thrown error; a malformed Retry-After is dropped rather than failing the loop. */
function recordError(engine, episode, err, options) {
  const failure = options.failure ? options.failure(err) : failureFromError(err);
  if (options.dependency !== undefined && failure.dependency === undefined) {
    failure.dependency = options.dependency;
  }
  try {
    return engine.onFailure(episode, failure);
  } catch (e) {
    if (e?.code !== 'INVALID_RETRY_AFTER') throw translate(e);
    delete failure.retryAfterHeader;
    return engine.onFailure(episode, failure);
  }
}

/** Should this resolved value count as a failed attempt? Non-ok fetch Responses do. */
function failedValue(value, options) {
  if (options.isFailure) return options.isFailure(value);
  return isResponse(value) && !value.ok;
}

function discard(response) {
  try {
    response.body?.cancel().catch(() => {});
  } catch {
    // already consumed
  }
}

/**
 * Run `fn(attempt, {signal, episode})` (episode: null until the first failure) until it succeeds or the engine says stop. Resolves with
 * fn's value; a fetch Response that is not ok (429, 503, ...) is a failure whose status and
 * Retry-After the engine reads; when the engine gives up on a Response, the last Response is
 * returned (fetch semantics). Rejects with fn's last error, with the signal's reason when it
 * aborts (at once, also during a wait), or with an AbortError's original error.
 */
async function retry(fn, options = {}) {
  const engine = options.engine ?? getDefaultEngine();
  const { signal, onFailedAttempt } = options;
  const wait = options.sleep ?? sleep;
  signal?.throwIfAborted();
  const key = options.key ?? 'default';
  // Begun at the first failure: a first-attempt success is one native call, no episode object.
  let episode = null;
  for (let attempt = 1; ; attempt++) {
    let value;
    let error;
    let failed = false;
    try {
      value = await fn(attempt, { signal, episode });
    } catch (e) {
      error = e;
      failed = true;
    }
    if (!failed && !failedValue(value, options)) {
      if (episode === null) engine.succeed(key, options.tenant, options.dependency);
      else engine.onSuccess(episode, options.dependency);
      return value;
    }
    episode ??= engine.begin(key, options.tenant);
    if (error instanceof AbortError) {
      engine.abandon(episode);
      throw error.originalError;
    }
    if (signal?.aborted) {
      engine.abandon(episode);
      throw signal.reason;
    }
    let rec;
    if (failed) {
      rec = recordError(engine, episode, error, options);
    } else if (isResponse(value)) {
      rec = engine.onHttpFailure(episode, value.status, header(value.headers, 'retry-after'), options.dependency);
    } else {
      rec = engine.onFailure(episode, { message: 'result rejected by isFailure', dependency: options.dependency });
    }
    if (onFailedAttempt) {
      await onFailedAttempt({ error, value, attempt, recommendation: rec, episode });
    }
    if (!rec.shouldRetry) {
      if (failed) throw error;
      if (isResponse(value)) return value;
      throw new GiveUpError(rec, value);
    }
    if (!failed && isResponse(value)) discard(value);
    const ms = rec.delayMs;
    if (ms > 0) {
      try {
        await wait(ms, signal);
      } catch (e) {
        engine.abandon(episode);
        throw e;
      }
    }
    if (signal?.aborted) {
      engine.abandon(episode);
      throw signal.reason;
    }
  }
}

/**
 * Run `fn(item, attempt, index)` for every item; only the failed items are retried, each with
 * its own episode and decisions. Resolves with Promise.allSettled-style results, in order.
 */
function retryBatch(items, fn, options = {}) {
  return Promise.all(
    Array.from(items, (item, index) =>
      retry((attempt, ctx) => fn(item, attempt, index, ctx), options).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason) => ({ status: 'rejected', reason }),
      ),
    ),
  );
}

module.exports = { retry, retryBatch, sleep, recordError };
