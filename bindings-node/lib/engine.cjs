'use strict';
// The engine for JS callers: the native class with policies and patches as objects, every error
// a SmartRetryError with a code. Every call is synchronous. Rules (ranges, names, Retry-After,
// presets) are the core's: this file only translates arguments.

const native = require('../index.js');
const { translate, guard, invalidArgument, SmartRetryError } = require('./errors.cjs');
const { Observers } = require('./observers.cjs');
const { checkFailure } = require('./failure.cjs');
const ops = require('./ops.cjs');
const { checkContext, snakeKeys } = require('./learned.cjs');
/** The options of `begin(key, { ... })`. */
const BEGIN_KEYS = new Set(['tenant', 'maxAttempts', 'deadline', 'context']);
/** Keys `tokenMs` remembers as accepted before it starts over (a bound on its memory). */
const MAX_ACCEPTED_KEYS = 4096;

/**
 * Episode handles are named here, by one count for every engine of this thread, never reusing a
 * number (the native side refuses one already open and no longer knows one closed), so that the
 * call opening a handle can answer the first failure's delay instead of the handle.
 */
let nextHandle = 1;

/**
 * A handle named but not open yet: the first failure's call opens it (`onFailureDelayMs`
 * takes one where it takes a handle), in one native call when the key has a number and the
 * failure is plain. `open` is true from then on.
 */
class PendingHandle {
  constructor(handle, key, tenant, limits, context, keyNumber) {
    this.handle = handle;
    this.key = key;
    this.tenant = tenant;
    this.limits = limits;
    this.context = context;
    this.keyNumber = keyNumber;
    this.open = false;
  }
}

/**
 * A policy as JSON text for the core. NaN and ±Infinity are sent as strings, because
 * JSON.stringify would turn them into `null` ("not set": a `deadline: NaN` meant no deadline);
 * the core then refuses them with its own code.
 */
function json(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
}

function objectArg(what, v) {
  if (v !== null && typeof v === 'object') return v;
  throw invalidArgument(`${what} must be an object, not ${v === null ? 'null' : typeof v}`);
}

/** A ManualClock whose errors carry codes like the engine's. */
class ManualClock extends native.ManualClock {
  constructor(startSeconds) {
    try {
      super(startSeconds);
    } catch (e) {
      throw translate(e);
    }
  }

  advance(secs) { return guard(() => super.advance(secs)); }
  advanceMs(ms) { return guard(() => super.advanceMs(ms)); }
  set(secs) { return guard(() => super.set(secs)); }
}

class Engine {
  /**
   * @param {object|string|Array<object|string>} [policy] partial policy over a preset (durations
   *   in seconds), e.g. `{ preset: 'request', max_attempts: 6 }`; no policy: the `background`
   *   preset. An array is layers merged deeply, the later winning (objects key by key, anything
   *   else replaces): `[basePolicy, { learning: { exploration: 0 } }]` keeps base's other
   *   learning settings, where an object spread would drop them.
   * @param {{clock?: ManualClock}} [options]
   */
  constructor(policy, options) {
    const { clock } = options === undefined ? {} : objectArg('options', options);
    this.native = guard(() => (Array.isArray(policy)
      ? native.Engine.fromLayers(policy.map((layer) => json(layer) ?? '{}'), clock)
      : new native.Engine(json(policy), clock)));
    this.clock = clock;
    /** The engine's number for the hot path's free functions (no per-call receiver cost). */
    this.id = this.native.registryId();
    this.observers = new Observers(this.native);
    /**
     * Whether the policy has adaptive rate limiting, as last told by the native side (at
     * construction, `setPolicy`, and every `succeed`): while it has not, `tokenMs` skips the
     * native token call, which would answer 0 and change nothing.
     */
    this.limiting = this.native.rateLimitOn();
    /**
     * Keys the native side has accepted, with their native numbers (-1: the engine numbers no
     * more keys). `tokenMs` skips its native call for them, and `succeed` passes the number
     * instead of converting the string again. Bounded: cleared when full.
     */
    this.keyNumbers = new Map();
  }

  now() { return this.native.now(); }
  /**
   * Start an episode: `begin(key, tenant, limits, context)` or `begin(key, { tenant,
   * maxAttempts, deadline, context })`. `limits` (`{ maxAttempts, deadline }`, deadline in
   * seconds from the first failure) replace the policy's attempt cap and deadline for this
   * episode only; `context` (`{ queueDepth, downstreamLatency, ... }`) is the attempt context
   * for the learned tier and the history.
   */
  begin(key, tenant, limits, context) {
    if (tenant !== null && typeof tenant === 'object') {
      const o = tenant;
      for (const k in o) {
        if (!BEGIN_KEYS.has(k)) throw invalidArgument(`unknown begin option ${JSON.stringify(k)} (known: ${[...BEGIN_KEYS].join(', ')})`);
      }
      tenant = o.tenant;
      context = o.context;
      limits = o.maxAttempts === undefined && o.deadline === undefined ? undefined : { maxAttempts: o.maxAttempts, deadline: o.deadline };
    } else if (limits !== undefined && limits !== null) {
      objectArg('limits', limits);
    }
    if (context === undefined || context === null) {
      return guard(() => this.native.begin(key, tenant, limits ?? undefined));
    }
    return guard(() => this.native.begin(key, tenant, limits ?? undefined, checkContext(context)));
  }

  /** Replace an episode's attempt context (as `episode.setContext`). */
  setContext(episode, context) { episode.setContext(context); }
  onFailure(episode, failure) { return guard(() => this.native.onFailure(episode, checkFailure(failure))); }
  /**
   * `onFailure` answering only the delay in milliseconds, or -1 when the engine says stop (then
   * `episode.takeStopRecommendation()` has the recommendation): no object on the retry path.
   */
  onFailureDelayMs(episode, failure) {
    try {
      if (episode instanceof PendingHandle) {
        // Opened and failed in one call when it can be (retry()'s first failure).
        if (!episode.open && episode.keyNumber >= 0 && isPlain(failure)) {
          const f = failure;
          const ms = native.enginePlainFailureDelayMsHandle(this.id, episode.handle, f.status, f.code, f.exception, f.message, f.dependency, episode.keyNumber);
          episode.open = true;
          return ms;
        }
        episode = this.openPending(episode);
      }
      const byHandle = typeof episode === 'number';
      if (isPlain(failure)) {
        const f = failure;
        return byHandle
          ? native.enginePlainFailureDelayMsHandle(this.id, episode, f.status, f.code, f.exception, f.message, f.dependency)
          : this.native.onPlainFailureDelayMs(episode, f.status, f.code, f.exception, f.message, f.dependency);
      }
      return byHandle
        ? this.native.onFailureDelayMsHandle(episode, checkFailure(failure))
        : this.native.onFailureDelayMs(episode, checkFailure(failure));
    } catch (e) {
      throw translate(e); // as guard() does, without a closure on the hot path
    }
  }

  // Episodes as handles (numbers, no object): `retry()`'s hot path. `onFailureDelayMs` takes a
  // handle where it takes an episode; `takeEpisode` turns one into the Episode object.
  beginHandle(key, tenant, limits, context) {
    const h = nextHandle++;
    this.#openHandle(h, key, tenant, limits, context, -2);
    return h;
  }

  /** The key's number when a handle on it can open by number (-1: by its string). */
  #handleKeyNumber(key, tenant, limits, context) {
    if (tenant !== undefined || limits !== undefined || context !== undefined) return -1;
    return this.keyNumbers.get(key) ?? this.numberKey(key);
  }

  /** Open handle `h` (`n`: the key's number, -1 for none, -2 not looked up yet). */
  #openHandle(h, key, tenant, limits, context, n) {
    try {
      const number = n === -2 ? this.#handleKeyNumber(key, tenant, limits, context) : n;
      // A key seen before crosses as its number (as in `succeed`).
      if (number >= 0) native.engineBeginHandleKey(this.id, h, number);
      else native.engineBeginHandle(this.id, h, key, tenant, limits, context === undefined ? undefined : checkContext(context));
    } catch (e) {
      throw translate(e);
    }
  }

  /** A handle named now and opened by the first failure recorded on it (`retry()`). */
  pendingHandle(key, tenant, limits, context) {
    try {
      return new PendingHandle(nextHandle++, key, tenant, limits, context, this.#handleKeyNumber(key, tenant, limits, context));
    } catch (e) {
      throw translate(e);
    }
  }

  /** A pending handle's number, opened first if it is not open yet. */
  openPending(p) {
    if (!p.open) {
      this.#openHandle(p.handle, p.key, p.tenant, p.limits, p.context, p.keyNumber);
      p.open = true;
    }
    return p.handle;
  }

  onSuccessHandle(handle, dependency) {
    try {
      native.engineOnSuccessHandle(this.id, handle, dependency);
    } catch (e) {
      throw translate(e);
    }
  }
  /** Close a handle without teaching anything; false if it was not open. */
  abandonHandle(handle) { return this.native.abandonHandle(handle); }
  setContextHandle(handle, context) { guard(() => this.native.setContextHandle(handle, checkContext(context))); }
  takeEpisode(handle) { return guard(() => this.native.takeEpisode(handle)); }
  /** Handles open now (`retry()` leaves none behind). */
  get openHandles() { return this.native.openHandles(); }

  /**
   * `onFailure` for an HTTP status with the raw Retry-After header a server sent. A malformed
   * header is dropped (the server's mistake must not fail the caller's retry loop); the status
   * is checked by the core as always.
   */
  onHttpFailure(episode, status, retryAfter, dependency) {
    const failure = { status, dependency };
    if (retryAfter !== undefined && retryAfter !== null) failure.retryAfterHeader = retryAfter;
    return onServerFailure(this, episode, failure);
  }

  onClassFailure(episode, errorClass) { return guard(() => this.native.onClassFailure(episode, errorClass)); }
  recommend(episode, failure) { return guard(() => this.native.recommend(episode, checkFailure(failure))); }
  record(episode, failure) { return guard(() => this.native.record(episode, checkFailure(failure))); }
  onSuccess(episode, dependency) { guard(() => this.native.onSuccess(episode, dependency)); }

  /** A first-attempt success in one call (no episode object). */
  succeed(key, tenant, dependency) {
    try {
      if (tenant === undefined && dependency === undefined) {
        const n = this.keyNumbers.get(key) ?? this.numberKey(key);
        if (n >= 0) {
          this.limiting = native.engineSucceedKey(this.id, n);
          return;
        }
      }
      this.limiting = native.engineSucceed(this.id, key, tenant, dependency);
    } catch (e) {
      throw translate(e); // as guard() does, without a closure on the hot path
    }
  }

  /** The adaptive rate limiter's token for a call on `key`: seconds to wait (0 until throttled). */
  acquire(key, dependency) { return guard(() => this.native.acquire(key, dependency)); }
  /** `acquire` in milliseconds. */
  acquireMs(key, dependency) {
    try {
      return this.native.acquireMs(key, dependency);
    } catch (e) {
      throw translate(e); // as guard() does, without a closure on the hot path
    }
  }
  /**
   * `acquireMs` before an attempt, skipped while the policy has no rate limiting (it would
   * answer 0 and change nothing). A key is still checked by the native side the first time it
   * is seen, so a bad key fails before the attempt as it did with the call.
   */
  tokenMs(key, dependency) {
    if (!this.limiting && dependency === undefined && this.keyNumbers.has(key)) return 0;
    const ms = this.acquireMs(key, dependency);
    if (!this.limiting && dependency === undefined && !this.keyNumbers.has(key)) this.numberKey(key);
    return ms;
  }

  /** A key's native number, asked once per key (it also checks the key: `INVALID_KEY`). */
  numberKey(key) {
    const n = native.engineKeyNumber(this.id, key);
    if (this.keyNumbers.size >= MAX_ACCEPTED_KEYS) this.keyNumbers.clear();
    this.keyNumbers.set(key, n);
    return n;
  }
  /** `acquire` for a call that waits at most `maxWait` seconds: null (no token taken) beyond it. */
  acquireWithin(key, maxWait, dependency) {
    return guard(() => this.native.acquireWithin(key, maxWait, dependency));
  }

  abandon(episode) { guard(() => this.native.abandon(episode)); }
  classify(failure) { return guard(() => this.native.classify(checkFailure(failure))); }

  /** A failure from the core's JSON form (snake_case keys), as the object `onFailure` takes. */
  failureFromJson(text, retryAfterHeader) {
    return guard(() => this.native.failureFromJson(typeof text === 'string' ? text : JSON.stringify(text), retryAfterHeader));
  }

  preview(key, failure, options) {
    const { tenant, steps } = options === undefined ? {} : objectArg('preview options', options);
    if (steps !== undefined && !(Number.isInteger(steps) && steps >= 0 && steps <= 1000)) {
      throw invalidArgument(`steps must be an integer from 0 to 1000, not ${String(steps)}`);
    }
    return guard(() => this.native.preview(key, tenant, checkFailure(failure), steps));
  }

  recoveryCurve(key, errorClass, tenant) { return guard(() => this.native.recoveryCurve(key, tenant, errorClass)); }

  /** The policy in force (durations in seconds). */
  policy() { return JSON.parse(this.native.policyJson()); }
  setPolicy(policy) {
    guard(() => this.native.setPolicy(json(policy) ?? ''));
    this.limiting = this.native.rateLimitOn();
  }

  /** Override part of the policy for `{queue}` or `{tenant}`, for one class or all. */
  setOverride(scope, patch, errorClass) {
    const [kind, name] = scopeOf(scope);
    guard(() => this.native.setOverride(kind, name, errorClass, json(patch) ?? ''));
  }

  clearOverride(scope, errorClass) {
    const [kind, name] = scopeOf(scope);
    guard(() => this.native.clearOverride(kind, name, errorClass));
  }

  overrides() { return this.native.overrides(); }
  snapshot() { return this.native.snapshot(); }
  restore(buffer) { guard(() => this.native.restore(buffer)); }
  merge(buffer) { guard(() => this.native.merge(buffer)); }
  saveSnapshot(path) { guard(() => this.native.saveSnapshot(path)); }
  loadSnapshot(path) { guard(() => this.native.loadSnapshot(path)); }
  mergeSnapshot(path) { guard(() => this.native.mergeSnapshot(path)); }

  /** Counters in the core's stats schema (snake_case keys, as in every language). */
  stats() { return this.native.stats(); }
  resetStats() { this.native.resetStats(); }

  /** Events lost because the queue to the JS thread was full (10,000 waiting events). */
  get droppedEvents() { return this.native.droppedEvents(); }

  /** Exceptions thrown by `onEvent` listeners (caught, counted, warned about once). */
  get observerErrors() { return this.observers.errors; }

  /**
   * `listener(event)` for every engine event (the core's event JSON: `type`, snake_case keys),
   * delivered asynchronously on the event loop. Returns a function that removes the listener.
   */
  onEvent(listener) {
    if (typeof listener !== 'function') throw invalidArgument(`onEvent needs a function, not ${listener === null ? 'null' : typeof listener}`);
    return guard(() => this.observers.add(listener));
  }

  /** The core's name for `onEvent`. */
  addObserver(listener) { return this.onEvent(listener); }
  clearObservers() { this.observers.clear(); }
  breakerState(dependency) { return guard(() => this.native.breakerState(dependency)); }

  /** Log every attempt as JSON Lines to `path`; `{ maxBytes, maxFiles, workerVersion }`. */
  writeHistory(path, options) { guard(() => this.native.writeHistory(path, ops.historyOptions(options))); }
  flushHistory() { guard(() => this.native.flushHistory()); }
  stopHistory() { guard(() => this.native.stopHistory()); }
  /** Facts logged with the episode's later attempts: `{ jobType, payloadSize, workerVersion, downstreamLatency }`. */
  setMeta(episode, meta) { guard(() => episode.setMeta(objectArg('meta', meta))); }
  /**
   * Load a learned model file (`.srm`) for `queue`: its metadata (`features`, `training`,
   * `metrics`, ...). INVALID_MODEL (or IO) leaves the queue's model as it was.
   */
  loadModel(queue, path) { return guard(() => this.native.loadModel(queue, path)); }
  unloadModel(queue) { guard(() => this.native.unloadModel(queue)); }
  /** `queue`'s rollout: 'off', 'shadow', 'canary:0.2' or 'full' (not off: a model is needed). */
  setRollout(queue, mode) { guard(() => this.native.setRollout(queue, mode)); }
  /** One step up (shadow → canary → full) on evidence; the new mode, or INVALID_STATE. */
  promoteRollout(queue) { return guard(() => this.native.promoteRollout(queue)); }
  rollbackRollout(queue) { guard(() => this.native.rollbackRollout(queue)); }
  /** `{ minEpisodes, z, rollbackRegression, autoPromote, canaryWeight, canaryMaxEpisodes, fullHoldout }`: missing ones take the defaults. */
  setRolloutConfig(queue, config) {
    guard(() => this.native.setRolloutConfig(queue, json(snakeKeys(config))));
  }
  /** The core's rollout status (snake_case keys), or null when the queue has none. */
  rolloutStatus(queue) { return guard(() => this.native.rolloutStatus(queue)); }
  rollouts() { return this.native.rollouts(); }
  learnedStats() { return this.native.learnedStats(); }

  /** The admin endpoint (loopback or `unix:` only): `{ listen, token, recent }`. */
  serveAdmin(options) { return ops.serveAdmin(this, options); }
  recordDependency(dependency, ok) { return guard(() => this.native.recordDependency(dependency, ok)); }
}

function scopeOf(scope) {
  if (scope && typeof scope.queue === 'string') return ['queue', scope.queue];
  if (scope && typeof scope.tenant === 'string') return ['tenant', scope.tenant];
  throw invalidArgument('scope must be {queue: name} or {tenant: name}');
}

/**
 * Record a failure whose Retry-After a server sent: a malformed header is dropped and the
 * failure recorded without it. (The one place for this leniency in Node; the core has no
 * lenient parse yet.)
 */
const PLAIN_STRINGS = ['code', 'exception', 'message', 'dependency'];
/**
 * Whether a failure holds only the common signals, each of the type the native side takes
 * (a number status, string names): then it is passed as arguments, not converted as an object.
 */
function isPlain(f) {
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return false;
  let n = 0;
  if (f.status !== undefined) {
    if (typeof f.status !== 'number') return false;
    n++;
  }
  for (const k of PLAIN_STRINGS) {
    const v = f[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') return false;
    n++;
  }
  for (const _k in f) n--;
  return n === 0 && Object.getPrototypeOf(f) === Object.prototype;
}

function onServerFailure(engine, episode, failure, delayOnly = false) {
  const record = delayOnly ? 'onFailureDelayMs' : 'onFailure';
  try {
    return engine[record](episode, failure);
  } catch (e) {
    if (!(e instanceof SmartRetryError) || e.code !== 'INVALID_RETRY_AFTER' || failure.retryAfterHeader === undefined) throw e;
    const { retryAfterHeader: _dropped, ...rest } = failure;
    return engine[record](episode, rest);
  }
}

let defaultEngine;
/**
 * The process-wide engine of `retry()` and the adapters: the system clock and the `request`
 * preset (sub-second backoff, 30 s deadline), since an unconfigured retry is usually a call on
 * a request path. Created on first use.
 */
function getDefaultEngine() {
  defaultEngine ??= new Engine({ preset: 'request' });
  return defaultEngine;
}

module.exports = {
  Engine, getDefaultEngine, onServerFailure, ManualClock,
  Episode: native.Episode, Recommendation: native.Recommendation, version: native.version,
  maxCauses: native.maxCauses,
};
