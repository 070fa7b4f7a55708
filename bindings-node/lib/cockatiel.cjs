'use strict';
// cockatiel adoption: an IBackoffFactory whose durations come from the engine (outcomes fed back
// through the policy's events), and an IBreaker backed by the engine's circuit breaker. Both are
// structural: cockatiel itself is not a dependency.

const { AsyncLocalStorage } = require('node:async_hooks');
const { getDefaultEngine } = require('./engine.cjs');
const { GiveUpError, attach } = require('./errors.cjs');
const { recordError, recordResponse, sleep, waitForToken } = require('./retry.cjs');
const { isResponse } = require('./failure.cjs');
const { contextAt, refreshContext } = require('./learned.cjs');

/**
 * `retry(handleAll, { maxAttempts, backoff: new EngineBackoff(engine, { key }) })`, then
 * `backoff.attach(policy)` so that successes and give-ups reach the engine. Each execution's
 * failures form one engine episode; when the engine says stop, the execution rejects with the
 * last error at once (no further attempt, no wait). `options.context`: the learned tier's
 * attempt context, an object or `(attempt) => context` (called when the engine records attempt
 * `attempt`, 1-based: its failure, or the success that follows the last failure).
 */
class EngineBackoff {
  constructor(engine, options = {}) {
    this.engine = engine ?? getDefaultEngine();
    this.options = options;
    this.key = options.key ?? 'default';
    this.tenant = options.tenant;
    this.episodes = new AsyncLocalStorage();
  }

  /** IBackoffFactory: the first failure of an execution. */
  next(context) {
    const attempt = context.attempt ?? 1;
    const cell = {
      episode: this.engine.begin(this.key, this.tenant, undefined, contextAt(this.options.context, attempt)),
      done: false,
      attempt,
    };
    this.episodes.enterWith(cell);
    return this.step(cell, context);
  }

  step(cell, context) {
    const result = context.result ?? {};
    if (context.attempt !== undefined && context.attempt !== cell.attempt) {
      cell.attempt = context.attempt;
      refreshContext(cell.episode, this.options.context, cell.attempt);
    }
    let rec;
    if ('error' in result) {
      rec = recordError(this.engine, cell.episode, result.error, this.options);
    } else if (isResponse(result.value)) {
      rec = recordResponse(this.engine, cell.episode, result.value, this.options.dependency);
    } else {
      rec = this.engine.onFailure(cell.episode, { message: 'result handled as a failure' });
    }
    if (!rec.shouldRetry) {
      cell.done = true;
      if ('error' in result) {
        attach(result.error, rec);
        throw result.error;
      }
      throw new GiveUpError(rec, result.value, this.key);
    }
    return { duration: rec.delayMs, next: (ctx) => this.step(cell, ctx) };
  }

  /**
   * `p.execute(backoff.rateLimited(fn))`: `fn` behind the adaptive rate limiter, whose token is
   * taken (and waited for) before every attempt, first ones included (0 until the key is
   * throttled). cockatiel passes `{ signal }`, which aborts the wait.
   */
  rateLimited(fn) {
    const wait = this.options.sleep ?? sleep;
    return async (context) => {
      const ms = this.engine.tokenMs(this.key, this.options.dependency);
      if (ms > 0) {
        const cell = this.episodes.getStore();
        await waitForToken(this.engine, ms, wait, context?.signal, cell && !cell.done ? cell.episode : null);
      }
      return fn(context);
    };
  }

  /** Feed the policy's outcomes back: success closes the episode, cockatiel's give-up abandons it. */
  attach(policy) {
    const subs = [
      policy.onSuccess(() => {
        const cell = this.episodes.getStore();
        if (cell && !cell.done) {
          cell.done = true;
          refreshContext(cell.episode, this.options.context, cell.attempt + 1);
          this.engine.onSuccess(cell.episode, this.options.dependency);
        } else {
          // First-attempt success: still a request for the budgets and the success counters.
          const ctx = contextAt(this.options.context, 1);
          if (ctx === undefined) this.engine.succeed(this.key, this.tenant, this.options.dependency);
          else this.engine.onSuccess(this.engine.begin(this.key, this.tenant, undefined, ctx), this.options.dependency);
        }
      }),
      policy.onGiveUp(() => {
        const cell = this.episodes.getStore();
        if (cell && !cell.done) {
          cell.done = true;
          this.engine.abandon(cell.episode);
        }
      }),
    ];
    return { dispose: () => subs.forEach((s) => s.dispose()) };
  }
}

/**
 * `circuitBreaker(handleAll, { halfOpenAfter, breaker: new EngineBreaker(engine, { dependency }) })`:
 * outcomes go to the engine's breaker for `dependency` (which also delays the engine's retries
 * against it); the circuit opens when the engine's breaker does.
 */
class EngineBreaker {
  constructor(engine, options = {}) {
    this.engine = engine ?? getDefaultEngine();
    this.dependency = options.dependency ?? options.key ?? 'default';
  }

  get state() {
    return { dependency: this.dependency, state: this.engine.breakerState(this.dependency) };
  }

  set state(_value) {
    // The engine owns the breaker's state (snapshots of it are the engine's business).
  }

  success(_circuitState) {
    this.engine.recordDependency(this.dependency, true);
  }

  failure(_circuitState) {
    return this.engine.recordDependency(this.dependency, false) !== 'closed';
  }
}

module.exports = { EngineBackoff, EngineBreaker };
