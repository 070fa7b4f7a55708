'use strict';
// What the engine needs to know about a failed attempt, read from whatever JS threw or returned.

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
 * A FailureInput from a thrown value: HTTP status and Retry-After from `status`/`statusCode`/
 * `response`, an errno-style `code` (also from `cause`, as fetch reports them), the error's
 * name and message.
 */
function failureFromError(err) {
  if (err === null || typeof err !== 'object') {
    return { message: String(err) };
  }
  const f = {};
  const response = err.response;
  const status = err.status ?? err.statusCode ?? response?.status ?? response?.statusCode;
  if (typeof status === 'number' && status >= 100 && status <= 999) f.status = status;
  const ra = header(err.headers, 'retry-after') ?? header(response?.headers, 'retry-after');
  if (typeof ra === 'string') f.retryAfterHeader = ra;
  if (typeof err.retryAfter === 'number') f.retryAfter = err.retryAfter;
  const code = typeof err.code === 'string' ? err.code
    : typeof err.cause?.code === 'string' ? err.cause.code : undefined;
  if (code !== undefined) f.code = code;
  if (typeof err.name === 'string' && err.name !== 'Error') f.exception = err.name;
  if (typeof err.message === 'string' && err.message) {
    f.message = err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
  }
  if (typeof err.errorClass === 'string') f.class = err.errorClass;
  return f;
}

module.exports = { failureFromError, isResponse, header };
