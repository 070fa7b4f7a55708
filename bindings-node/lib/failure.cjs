'use strict';
// What the engine needs to know about a failed attempt, read from whatever JS threw or returned:
// fetch/undici, axios and got errors, gRPC ServiceErrors, and any `err.cause` chain. Only
// reading: which signal wins, and every range, is the core's.

const { maxCauses } = require('../index.js');
const { invalidArgument, SmartRetryError } = require('./errors.cjs');

const MAX_CAUSES = maxCauses();

function header(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v ?? undefined;
}

/** True for a fetch `Response` (or anything shaped like one). */
function isResponse(v) {
  return v !== null && typeof v === 'object' && typeof v.status === 'number' &&
    typeof v.ok === 'boolean' && v.headers !== undefined;
}

/**
 * The signals of one error, without its causes: HTTP status (`status`, `statusCode`, axios'
 * `response.status`, got's `response.statusCode`), an errno-style string `code`, a gRPC
 * ServiceError's numeric `code`, the type name and message. Numbers are passed as they are: the
 * core refuses a status of 0 or 503.9, not this function.
 */
function signals(err) {
  if (err === null || typeof err !== 'object') return { message: String(err) };
  const f = {};
  const response = err.response;
  const status = err.status ?? err.statusCode ?? response?.status ?? response?.statusCode;
  if (typeof status === 'number') f.status = status;
  if (typeof err.code === 'string') f.code = err.code;
  else if (typeof err.code === 'number' && ('details' in err || 'metadata' in err)) f.grpc = err.code;
  if (typeof err.name === 'string' && err.name !== 'Error') f.exception = err.name;
  if (typeof err.message === 'string' && err.message) f.message = err.message;
  return f;
}

/** An error's direct causes: `cause`, and an AggregateError's (or any) `errors` array. */
function directCauses(err) {
  if (err === null || typeof err !== 'object') return [];
  const out = [];
  if (err.cause !== undefined && err.cause !== null) out.push(err.cause);
  if (Array.isArray(err.errors)) out.push(...err.errors);
  return out;
}

const NO_CAUSES = Object.freeze([]);

/**
 * The causes of `err`, depth first and outermost first, as one flat list (the core reads a
 * flat list as the chain); cycles are cut and at most the core's MAX_CAUSES are kept.
 */
function causesOf(err) {
  // Most errors have no cause: no set, no arrays.
  if ((err.cause === undefined || err.cause === null) && !Array.isArray(err.errors)) return NO_CAUSES;
  const seen = new Set([err]);
  const out = [];
  const stack = directCauses(err).reverse();
  while (stack.length > 0 && out.length < MAX_CAUSES) {
    const c = stack.pop();
    if (typeof c === 'object' && seen.has(c)) continue;
    seen.add(c);
    out.push(signals(c));
    stack.push(...directCauses(c).reverse());
  }
  return out;
}

/**
 * A FailureInput from a thrown value: its signals, Retry-After from its (or its response's)
 * headers or a numeric `retryAfter`, a known `errorClass`, and its causes. undici's
 * `TypeError: fetch failed` with `cause.code = 'ECONNREFUSED'` is thus a connection failure.
 */
function failureFromError(err) {
  const f = signals(err);
  if (err === null || typeof err !== 'object') return f;
  const ra = header(err.headers, 'retry-after') ?? header(err.response?.headers, 'retry-after');
  if (typeof ra === 'string') f.retryAfterHeader = ra;
  if (typeof err.retryAfter === 'number') f.retryAfter = err.retryAfter;
  if (typeof err.errorClass === 'string') f.class = err.errorClass;
  const causes = causesOf(err);
  if (causes.length > 0) f.causes = causes;
  return f;
}

/**
 * The same failure without the numeric signals the core refused (a thrown object with
 * `status: 0`, an opaque Response): what is left still classifies, instead of the caller's
 * retry loop failing on a value it did not choose.
 */
function withoutNumbers(f) {
  const { status: _s, grpc: _g, causes, ...rest } = f;
  if (causes) rest.causes = causes.map(withoutNumbers);
  return rest;
}

module.exports = { failureFromError, isResponse, header, withoutNumbers };

const FAILURE_KEYS = new Set([
  'status', 'grpc', 'code', 'exception', 'message', 'retryAfter', 'retryAfterHeader', 'class',
  'dependency', 'causes',
]);
/**
 * Deepest nesting of `causes` handed to the native side. Not the core's rule (it refuses more
 * than 8 levels itself): a guard for the native stack, which converts nested objects
 * recursively before the core can say no.
 */
const MAX_NESTING = 64;

/**
 * Check that a FailureInput is an object of known keys (a typo such as `statuss` must not pass
 * as "no status"), its causes arrays of such objects; throws INVALID_ARGUMENT. Values are left
 * to the core.
 */
function checkFailure(f) {
  let level = [f];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_NESTING) {
      throw new SmartRetryError(`cause chain nested deeper than ${MAX_NESTING}`, 'INVALID_FAILURE');
    }
    const next = [];
    for (const x of level) {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) {
        throw invalidArgument(`a failure must be an object, not ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
      }
      for (const k in x) {
        if (!FAILURE_KEYS.has(k)) throw invalidArgument(`unknown failure field ${JSON.stringify(k)} (known: ${[...FAILURE_KEYS].join(', ')})`);
      }
      if (x.causes !== undefined && x.causes !== null) {
        if (!Array.isArray(x.causes)) throw invalidArgument('failure.causes must be an array');
        next.push(...x.causes);
      }
    }
    level = next;
  }
  return f;
}

module.exports.checkFailure = checkFailure;
