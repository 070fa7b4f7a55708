'use strict';
// Error types of the JS layer: engine errors carry the engine's stable `code`.

const ENGINE_CODES = new Set([
  'INVALID_DURATION', 'INVALID_CONFIG', 'UNKNOWN_CLASS', 'INVALID_KEY', 'INVALID_RULE',
  'INVALID_RETRY_AFTER', 'SNAPSHOT_CORRUPT', 'SNAPSHOT_VERSION', 'IO', 'INVALID_JSON',
  'INVALID_STATE', 'INVALID_FAILURE', 'INVALID_ARGUMENT', 'INVALID_POLICY', 'FLEET_UNAVAILABLE',
  'SCHEDULE_STORAGE', 'INVALID_MODEL',
]);

/**
 * napi-rs statuses that a failed argument conversion reports as `err.code` ("Failed to convert
 * JavaScript value `Undefined` into rust type `String`"): the value never reached the engine,
 * so it is the caller's argument that is wrong.
 */
const NAPI_CONVERSION = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected', 'DetachableArraybufferExpected', 'GenericFailure',
]);

/** An error from the engine, with a stable machine-readable `code` (INVALID_KEY, ...). */
class SmartRetryError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = 'SmartRetryError';
    this.code = code;
  }
}

/** A caller's argument the engine cannot take (wrong type, missing, not one of the choices). */
function invalidArgument(message, cause) {
  return new SmartRetryError(message, 'INVALID_ARGUMENT', cause === undefined ? undefined : { cause });
}

/** Throw it from the retried function to stop retrying at once (p-retry style). */
class AbortError extends Error {
  constructor(messageOrError) {
    const original = messageOrError instanceof Error ? messageOrError : undefined;
    super(original ? original.message : String(messageOrError ?? 'aborted'), { cause: original });
    this.name = 'AbortError';
    this.originalError = original ?? this;
  }
}

/** `payments: give up after 4 attempt(s): <the engine's reason>`. */
function giveUpMessage(key, recommendation) {
  return `${key}: ${recommendation.action.replace('_', ' ')} after ${recommendation.attempt} attempt(s): ${recommendation.reason}`;
}

/**
 * The engine said stop (give up or escalate): on a failure that was a value, not an error, or
 * instead of the last error when `retry()` is asked for it (`wrapError: true`; the error is
 * `cause`). The message ends with the engine's reason.
 */
class GiveUpError extends Error {
  constructor(recommendation, value, key = 'default', options = undefined) {
    super(giveUpMessage(key, recommendation), options);
    this.name = 'GiveUpError';
    this.code = recommendation.action === 'escalate' ? 'ESCALATE' : 'GIVE_UP';
    this.recommendation = recommendation;
    this.value = value;
  }
}

/**
 * Tell the engine's give-up on the caller's own error before it is thrown again (as p-retry
 * throws it): `error.recommendation`. Values that cannot hold a property are left alone.
 */
function attach(error, recommendation) {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return;
  try {
    error.recommendation = recommendation;
  } catch {
    // frozen or exotic: the error goes on as it is
  }
}

const CODED = /^\[([A-Z_]+)\] ([\s\S]*)$/;

/**
 * A native error as a SmartRetryError: the engine's code travels as a `[CODE] ` prefix; a
 * napi-rs conversion failure becomes INVALID_ARGUMENT, and so does a RangeError or TypeError
 * raised while reading the arguments (JSON.stringify of a BigInt, a cyclic policy).
 */
function translate(err) {
  if (err instanceof SmartRetryError || !(err instanceof Error)) return err;
  const m = CODED.exec(err.message);
  if (m && ENGINE_CODES.has(m[1])) return new SmartRetryError(m[2], m[1], { cause: err });
  if (typeof err.code === 'string' && NAPI_CONVERSION.has(err.code)) return invalidArgument(err.message, err);
  if (err instanceof TypeError || err instanceof RangeError) return invalidArgument(err.message, err);
  return err;
}

/** Run `fn`, throwing any error as translated. */
function guard(fn) {
  try {
    return fn();
  } catch (e) {
    throw translate(e);
  }
}

module.exports = {
  SmartRetryError, AbortError, GiveUpError, translate, guard, invalidArgument, attach,
};
