'use strict';
// The promise-first front: retry(fn, options) with AbortSignal, fetch Response handling and no
// timer at all for a zero delay; retryBatch for retrying only the failed items of a batch.

const { getDefaultEngine, onServerFailure } = require('./engine.cjs');
const { AbortError, GiveUpError, attach, invalidArgument } = require('./errors.cjs');
const { failureFromError, isResponse, header, withoutNumbers } = require('./failure.cjs');
const { contextAt } = require('./learned.cjs');

/** The longest setTimeout Node honours: a longer delay fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Wait `ms`, rejecting at once with the signal's reason when it aborts. A wait longer than a
 * timer can hold (about 24.8 days) is a chain of timers, never a 1 ms timer; a wait that is not
 * a positive number ends at once.
 */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer;
    let remaining = ms > 0 ? ms : 0;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const arm = () => {
      if (remaining <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      timer = setTimeout(arm, step);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * Record a thrown error (`episode`: an Episode, or a handle with `delayOnly`). Signals read from the error that the core refuses are dropped rather
 * than failing the loop: a malformed Retry-After, then out-of-range numbers (a `status: 0`).
 * A caller's own `failure` option or `dependency` is not second-guessed: its errors are thrown.
 * `delayOnly`: answer as `onFailureDelayMs` does (milliseconds, or -1 to stop).
 */
function recordError(engine, episode, err, options, delayOnly = false) {
  const custom = options.failure !== undefined;
  const failure = custom ? options.failure(err) : failureFromError(err);
  if (options.dependency !== undefined && failure.dependency === undefined) {
    failure.dependency = options.dependency;
  }
  if (custom) return delayOnly ? engine.onFailureDelayMs(episode, failure) : engine.onFailure(episode, failure);
  try {
    return onServerFailure(engine, episode, failure, delayOnly);
  } catch (e) {
    if (e?.code !== 'INVALID_FAILURE') throw e;
    return onServerFailure(engine, episode, withoutNumbers(failure), delayOnly);
  }
}

/** Record a fetch Response that is not ok: its status and Retry-After. */
function recordResponse(engine, episode, response, dependency) {
  const failure = { status: response.status, dependency };
  const ra = header(response.headers, 'retry-after');
  if (typeof ra === 'string') failure.retryAfterHeader = ra;
  try {
    return onServerFailure(engine, episode, failure);
  } catch (e) {
    if (e?.code !== 'INVALID_FAILURE') throw e;
    return onServerFailure(engine, episode, withoutNumbers(failure));
  }
}

/**
 * The call's own caps, named as p-retry names them: `retries` (after the first attempt;
 * Infinity: no cap of the call's) and `maxRetryTime` (ms from the first failure). Each replaces
 * the policy's `max_attempts` / `deadline` for this call. Undefined when neither is given.
 */
function callLimits(options) {
  const { retries, maxRetryTime } = options;
  if (retries === undefined && maxRetryTime === undefined) return undefined;
  const limits = {};
  if (retries !== undefined && retries !== Infinity) {
    if (!(Number.isInteger(retries) && retries >= 0 && retries < 2 ** 32 - 1)) {
      throw invalidArgument(`retries must be a whole number >= 0 (or Infinity), not ${String(retries)}`);
    }
    limits.maxAttempts = retries + 1;
  }
  if (maxRetryTime !== undefined && maxRetryTime !== Infinity) {
    if (!(typeof maxRetryTime === 'number' && maxRetryTime > 0)) {
      throw invalidArgument(`maxRetryTime must be a positive number of ms (or Infinity), not ${String(maxRetryTime)}`);
    }
    limits.deadline = maxRetryTime / 1000;
  }
  return Object.keys(limits).length ? limits : undefined;
}

/**
 * The error to throw when the engine gives up on a thrown error: the error itself with the
 * recommendation attached (p-retry throws the original), or with `wrapError` a GiveUpError
 * whose `cause` it is and whose message carries the engine's reason.
 */
function giveUpError(error, rec, key, options) {
  if (options.wrapError) return new GiveUpError(rec, undefined, key, { cause: error });
  attach(error, rec);
  return error;
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

/** Wait `ms` for a rate limiter token; an abort during the wait abandons `episode`. */
async function waitForToken(engine, ms, wait, signal, episode) {
  try {
    await wait(ms, signal);
  } catch (e) {
    if (episode) engine.abandon(episode);
    throw e;
  }
}

/**
 * Run `fn(attempt, {signal, episode})` (episode: null until the first failure) until it succeeds or the engine says stop. Resolves with
 * fn's value; a fetch Response that is not ok (429, 503, ...) is a failure whose status and
 * Retry-After the engine reads; when the engine gives up on a Response, the last Response is
 * returned (fetch semantics). Rejects with fn's last error (as p-retry does; with
 * `recommendation` attached, or wrapped in a GiveUpError with `wrapError: true`), with a
 * GiveUpError holding a value `isFailure` rejected, with the signal's reason when it aborts (at
 * once, also during a wait), or with an AbortError's original error. `retries` and
 * `maxRetryTime` (p-retry's names) cap this call's attempts and time. `context` is the learned
 * tier's attempt context: an object for the whole call, or `(attempt) => context` called as each
 * attempt starts (e.g. the queue depth then).
 */
function retry(fn, options = {}) {
  let engine;
  let key;
  let limits;
  let tokenMs;
  try {
    engine = options.engine ?? getDefaultEngine();
    options.signal?.throwIfAborted();
    key = options.key ?? 'default';
    limits = callLimits(options);
    // The adaptive rate limiter's token (0 until the key is throttled), before every attempt.
    tokenMs = engine.tokenMs(key, options.dependency);
  } catch (e) {
    return Promise.reject(e);
  }
  if (tokenMs > 0 || options.context !== undefined) {
    return attemptLoop(fn, options, engine, key, limits, { tokenMs });
  }
  // The first attempt is chained, not awaited inside an async function: a success ends here, and
  // an error it throws is cheaper for V8 to create (measured: a fail-once costs about 0.6 µs
  // less, most of it in capturing the error's stack under a plain frame rather than an async
  // one). Everything after a first failure is the loop's.
  let first;
  try {
    first = fn(1, { signal: options.signal, episode: null });
  } catch (error) {
    return attemptLoop(fn, options, engine, key, limits, { failed: true, error });
  }
  return Promise.resolve(first).then(
    (value) => {
      if (failedValue(value, options)) {
        return attemptLoop(fn, options, engine, key, limits, { failed: false, value });
      }
      engine.succeed(key, options.tenant, options.dependency);
      return value;
    },
    (error) => attemptLoop(fn, options, engine, key, limits, { failed: true, error }),
  );
}

/**
 * `retry()` from its first attempt on. `first` is what `retry()` already did of attempt 1: its
 * outcome (`failed`, with `error` or `value`), or only its rate-limiter token (`tokenMs`), taken
 * and still to be waited for, when the attempt itself is left to the loop.
 */
async function attemptLoop(fn, options, engine, key, limits, first) {
  const { signal, onFailedAttempt } = options;
  const wait = options.sleep ?? sleep;
  // The learned tier's attempt context: an object, or a function of the attempt number.
  const contextOption = options.context;
  // Begun at the first failure: a first-attempt success is one native call, no episode object.
  let ep = null;
  try {
    for (let attempt = 1; ; attempt++) {
      let value;
      let error;
      let failed = false;
      let context;
      if (attempt === 1 && first.failed !== undefined) {
        ({ value, error, failed } = first);
      } else {
        const tokenMs = attempt === 1 ? first.tokenMs : engine.tokenMs(key, options.dependency);
        if (tokenMs > 0) await waitForToken(engine, tokenMs, wait, signal, ep === null ? null : ep.episode);
        // This attempt's context, taken as it starts; recorded with its outcome.
        context = contextOption === undefined ? undefined : contextAt(contextOption, attempt);
        if (ep !== null && context !== undefined && typeof contextOption === 'function') ep.setContext(context);
        try {
          value = await fn(attempt, ep === null ? { signal, episode: null } : ep.attemptInfo(signal));
        } catch (e) {
          error = e;
          failed = true;
        }
      }
      if (!failed && !failedValue(value, options)) {
        if (ep !== null) {
          ep.succeeded(options.dependency);
        } else if (context === undefined) {
          engine.succeed(key, options.tenant, options.dependency);
        } else {
          engine.onSuccess(engine.begin(key, options.tenant, limits, context), options.dependency);
        }
        return value;
      }
      // A thrown error nobody inspects takes the delay-only call on a handle: no object at all
      // unless the engine stops (then the episode holds the recommendation that stopped it).
      const quiet = failed && !onFailedAttempt;
      ep ??= new CallEpisode(engine, key, options.tenant, limits, context, quiet);
      if (error instanceof AbortError) {
        ep.abandon();
        throw error.originalError;
      }
      if (signal?.aborted) {
        ep.abandon();
        throw signal.reason;
      }
      let rec = null;
      let ms;
      if (quiet) {
        ms = recordError(engine, ep.target(), error, options, true);
        if (ms < 0) rec = ep.episode.takeStopRecommendation();
      } else {
        const episode = ep.episode;
        if (failed) {
          rec = recordError(engine, episode, error, options);
        } else if (isResponse(value)) {
          rec = recordResponse(engine, episode, value, options.dependency);
        } else {
          rec = engine.onFailure(episode, { message: 'result rejected by isFailure', dependency: options.dependency });
        }
        if (onFailedAttempt) {
          await onFailedAttempt({ error, value, attempt, recommendation: rec, episode });
        }
        ms = rec.shouldRetry ? rec.delayMs : -1;
      }
      if (ms < 0) {
        if (failed) throw giveUpError(error, rec, key, options);
        if (isResponse(value)) return value;
        throw new GiveUpError(rec, value, key);
      }
      if (!failed && isResponse(value)) discard(value);
      if (ms > 0) {
        try {
          await wait(ms, signal);
        } catch (e) {
          ep.abandon();
          throw e;
        }
      }
      if (signal?.aborted) {
        ep.abandon();
        throw signal.reason;
      }
    }
  } finally {
    // Whatever ended the call (an error from a callback included), no handle stays open.
    if (ep !== null) ep.close();
  }
}

/**
 * `fn`'s `{ signal, episode }` while the episode is a handle: `episode` is a getter (on the
 * prototype: an object literal with an accessor costs a new closure and a slow literal on every
 * attempt).
 */
class AttemptInfo {
  #call;
  constructor(signal, call) {
    this.signal = signal;
    this.#call = call;
  }

  get episode() { return this.#call.episode; }
}

/**
 * The episode of one `retry()` call, from its first failure. While nobody reads it, it is a
 * native handle (a number: no object to create, wrap and finalize), named when the call first
 * fails and opened by the call that records that failure (one native call for both);
 * `episode` turns it into the Episode object when someone asks (a callback, the give-up path).
 */
class CallEpisode {
  constructor(engine, key, tenant, limits, context, quiet) {
    this.engine = engine;
    /** The handle while there is one (a PendingHandle until the first failure opens it). */
    this.pending = quiet ? engine.pendingHandle(key, tenant, limits, context) : null;
    this.object = quiet ? null : engine.begin(key, tenant, limits, context);
  }

  /** The Episode object (the handle, if any, is taken into it). */
  get episode() {
    if (this.pending !== null) {
      const h = this.engine.openPending(this.pending);
      this.pending = null;
      this.object = this.engine.takeEpisode(h);
    }
    return this.object;
  }

  /** What the engine's delay-only call takes: the handle (pending or open), or the object. */
  target() {
    if (this.pending === null) return this.object;
    return this.pending.open ? this.pending.handle : this.pending;
  }

  /** `fn`'s second argument: the episode is read (and materialized) only if `fn` asks. */
  attemptInfo(signal) {
    return this.pending === null ? { signal, episode: this.object } : new AttemptInfo(signal, this);
  }

  setContext(context) {
    if (this.pending !== null) this.engine.setContextHandle(this.engine.openPending(this.pending), context);
    else this.object.setContext(context);
  }

  succeeded(dependency) {
    if (this.pending === null) {
      this.engine.onSuccess(this.object, dependency);
      return;
    }
    const p = this.pending;
    this.pending = null;
    this.engine.onSuccessHandle(this.engine.openPending(p), dependency);
  }

  abandon() {
    if (this.pending !== null) this.close();
    else this.engine.abandon(this.object);
  }

  /**
   * Close a handle left open by an error (a handle never opened has nothing to close; an
   * Episode object is left to the GC, as before).
   */
  close() {
    if (this.pending !== null) {
      if (this.pending.open) this.engine.abandonHandle(this.pending.handle);
      this.pending = null;
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

module.exports = {
  retry, retryBatch, sleep, recordError, recordResponse, callLimits, waitForToken, MAX_TIMER_MS,
};
