'use strict';
// BullMQ integration: a custom backoff strategy whose delays and give-ups are the engine's, with
// outcomes fed back from the worker's `completed` and `failed` events. One episode per job across
// its attempts, kept in the worker's process and numbered by BullMQ's `attemptsMade`.

const { getDefaultEngine } = require('./engine.cjs');
const { recordError } = require('./retry.cjs');
const { invalidArgument } = require('./errors.cjs');

/** The backoff type jobs name (any type BullMQ does not define itself reaches the strategy). */
const BACKOFF_TYPE = 'smartretry';
/**
 * BullMQ's own attempt cap for jobs the engine schedules: high enough that the policy's caps,
 * deadline, budgets and breakers decide (the strategy answers -1 to fail the job).
 */
const UNCAPPED_ATTEMPTS = 1_000_000;
/** Open episodes kept per integration; the oldest is abandoned beyond this (lost jobs). */
const MAX_OPEN_EPISODES = 10_000;

function pick(option, fallback) {
  if (option === undefined) return fallback;
  return typeof option === 'function' ? option : () => option;
}

/**
 * `const sr = bullmqRetry(engine, { key })`; `new Worker(name, fn, { connection, settings:
 * sr.settings })`; `sr.attach(worker)`; `queue.add(name, data, sr.jobOptions)`.
 *
 * Options: `key` (string or `job => string`; default the queue's name), `tenant` (same forms),
 * `dependency`, `failure` (`err => failure`, as for `retry()`). On a ManualClock engine the clock
 * is advanced by each delay and BullMQ is told 0 (retry at once).
 */
function bullmqRetry(engine, options = {}) {
  engine ??= getDefaultEngine();
  if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
  const keyOf = pick(options.key, (job) => job.queueName);
  const tenantOf = pick(options.tenant, () => undefined);
  const open = new Map();
  const slot = (job) => `${job.queueName}\u0000${job.id}`;

  const episodeFor = (job) => {
    const id = slot(job);
    let entry = open.get(id);
    if (entry === undefined) {
      entry = { episode: engine.begin(keyOf(job), tenantOf(job)), attempt: 0, delayMs: -1 };
      open.set(id, entry);
      for (const [oldest, old] of open) {
        if (open.size <= MAX_OPEN_EPISODES) break;
        open.delete(oldest);
        if (!old.episode.finished) engine.abandon(old.episode);
      }
    }
    return entry;
  };

  /** BullMQ's `settings.backoffStrategy(attemptsMade, type, err, job)`: ms, or -1 to fail. */
  function backoffStrategy(attemptsMade, _type, err, job) {
    const entry = episodeFor(job);
    // A strategy asked twice about one attempt answers once.
    if (entry.attempt === attemptsMade) return entry.delayMs;
    let ms = recordError(engine, entry.episode, err, options, true);
    if (ms > 0 && engine.clock !== undefined) {
      engine.clock.advanceMs(ms);
      ms = 0;
    }
    entry.attempt = attemptsMade;
    entry.delayMs = ms;
    return ms;
  }

  function onCompleted(job) {
    const id = slot(job);
    const entry = open.get(id);
    if (entry === undefined) {
      engine.succeed(keyOf(job), tenantOf(job), options.dependency);
      return;
    }
    open.delete(id);
    if (!entry.episode.finished) engine.onSuccess(entry.episode, options.dependency);
  }

  function onFailed(job) {
    // Retried attempts are the strategy's; only a job that failed for good closes its episode
    // (given up by the engine: already recorded; failed by BullMQ itself: abandoned).
    if (job === undefined || typeof job.finishedOn !== 'number') return;
    const id = slot(job);
    const entry = open.get(id);
    if (entry === undefined) return;
    open.delete(id);
    if (!entry.episode.finished) engine.abandon(entry.episode);
  }

  return {
    settings: { backoffStrategy },
    backoff: { type: BACKOFF_TYPE },
    jobOptions: { attempts: UNCAPPED_ATTEMPTS, backoff: { type: BACKOFF_TYPE } },
    backoffStrategy,
    /** Feed the worker's outcomes back to the engine; returns a function that detaches. */
    attach(worker) {
      worker.on('completed', onCompleted);
      worker.on('failed', onFailed);
      return () => {
        worker.off('completed', onCompleted);
        worker.off('failed', onFailed);
      };
    },
    /** Jobs between attempts whose episode is still open (in this process). */
    get openEpisodes() { return open.size; },
  };
}

module.exports = { bullmqRetry, BACKOFF_TYPE, UNCAPPED_ATTEMPTS, MAX_OPEN_EPISODES };
