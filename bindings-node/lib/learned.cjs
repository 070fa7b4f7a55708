'use strict';
// The learned tier's arguments for the native side: the attempt context (checked for unknown
// keys only: napi-rs reads the known ones and would silently drop a misspelt one; every value is
// checked by the core), the rollout config in the core's JSON form, and the per-attempt context
// the adapters take (an object, or a function of the attempt number).

const native = require('../index.js');
const { invalidArgument, translate } = require('./errors.cjs');

const CONTEXT_KEYS = new Set([
  'hourOfDay', 'dayOfWeek', 'payloadSize', 'queueDepth', 'downstreamLatency', 'workerVersion',
  'tenant',
]);

/**
 * An attempt context as the native side takes it: an object of known keys (a typo such as
 * `queueDepht` must not pass as "no queue depth"); throws INVALID_ARGUMENT otherwise.
 */
function checkContext(c) {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) {
    throw invalidArgument(`a context must be an object, not ${c === null ? 'null' : Array.isArray(c) ? 'an array' : typeof c}`);
  }
  for (const k in c) {
    if (!CONTEXT_KEYS.has(k)) throw invalidArgument(`unknown context field ${JSON.stringify(k)} (known: ${[...CONTEXT_KEYS].join(', ')})`);
  }
  return c;
}

/**
 * A rollout config with the core's (snake_case) keys: `minEpisodes` is sent as `min_episodes`;
 * snake_case keys pass as they are, and any other key reaches the core, which refuses it.
 */
function snakeKeys(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidArgument(`a rollout config must be an object, not ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  }
  const out = {};
  for (const [k, v] of Object.entries(config)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

/**
 * The context of attempt `attempt` (1-based) from an adapter's `context` option: the object
 * itself, or what the function answers for that attempt; undefined when there is none.
 */
function contextAt(option, attempt) {
  if (option === undefined || option === null) return undefined;
  const c = typeof option === 'function' ? option(attempt) : option;
  return c === null ? undefined : c;
}

/**
 * Give an episode a new context (`episode.setContext`, errors with the engine's code). Only a
 * per-attempt context (a function) changes between attempts; an object was given to `begin`.
 */
function refreshContext(episode, option, attempt) {
  if (typeof option !== 'function') return;
  const c = contextAt(option, attempt);
  if (c !== undefined) episode.setContext(c);
}

// `episode.setContext(ctx)` on the native class, with the unknown-key check and coded errors
// (the JS layer hands out the native Episode objects themselves).
const nativeSetContext = native.Episode.prototype.setContext;
Object.defineProperty(native.Episode.prototype, 'setContext', {
  value: function setContext(context) {
    try {
      return nativeSetContext.call(this, checkContext(context));
    } catch (e) {
      throw translate(e);
    }
  },
  writable: true,
  configurable: true,
  enumerable: false,
});

module.exports = { checkContext, snakeKeys, contextAt, refreshContext };
