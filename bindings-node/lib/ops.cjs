'use strict';
// Operator surfaces for JS callers: the attempt history file, the admin endpoint, and engine
// events as pino-compatible JSON lines. Translation only: the writer, the monitor and the
// server are the core's.

const { guard, invalidArgument } = require('./errors.cjs');

function optionsArg(what, v) {
  if (v === undefined || v === null) return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v;
  throw invalidArgument(`${what} must be an object, not ${Array.isArray(v) ? 'an array' : typeof v}`);
}

/** `{ maxBytes, maxFiles, workerVersion }` as the core's history options JSON. */
function historyOptions(options) {
  const { maxBytes, maxFiles, workerVersion, ...rest } = optionsArg('history options', options);
  const unknown = Object.keys(rest);
  if (unknown.length) throw invalidArgument(`unknown history option ${unknown[0]} (maxBytes, maxFiles, workerVersion)`);
  return JSON.stringify({ max_bytes: maxBytes, max_files: maxFiles, worker_version: workerVersion });
}

/** A running admin endpoint. */
class Admin {
  constructor(native) { this.native = native; }
  /** `http://127.0.0.1:PORT`, or `unix:/path`. */
  get url() { return guard(() => this.native.url); }
  /** The Prometheus text `/metrics` serves. */
  metrics() { return guard(() => this.native.metrics()); }
  /** The same figures as an object (decisions by tier, clamps, calibration per model, ...). */
  metricsObject() { return JSON.parse(guard(() => this.native.metricsJson())); }
  /** The last decisions, newest first. */
  recent(limit = 50) {
    if (!(Number.isInteger(limit) && limit >= 0)) throw invalidArgument(`limit must be a whole number, not ${String(limit)}`);
    return JSON.parse(guard(() => this.native.recentJson(limit)));
  }
  stop() { this.native.stop(); }
}

function serveAdmin(engine, options) {
  const { listen, token, recent, ...rest } = optionsArg('admin options', options);
  const unknown = Object.keys(rest);
  if (unknown.length) throw invalidArgument(`unknown admin option ${unknown[0]} (listen, token, recent)`);
  const config = JSON.stringify({ listen, token, recent });
  return new Admin(guard(() => engine.native.serveAdmin(config)));
}

/** pino's numeric levels. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * Log every engine event. With a pino logger (anything with `.info(obj, msg)`), each event goes
 * to `logger.info(event, 'smartretry.<type>')`. With a writable stream (default stdout), each
 * event is one pino-compatible JSON line: `{"level":30,"time":<ms>,"msg":"smartretry.<type>",
 * ...event}`, the event's keys being the observers' schema. Returns the unsubscribe function.
 */
function logEvents(engine, target = process.stdout, { level = 'info', now = Date.now } = {}) {
  const numeric = LEVELS[level];
  if (numeric === undefined) throw invalidArgument(`level must be one of ${Object.keys(LEVELS).join(', ')}`);
  if (target && typeof target[level] === 'function' && typeof target.write !== 'function') {
    return engine.onEvent((event) => target[level](event, `smartretry.${event.type}`));
  }
  if (!target || typeof target.write !== 'function') throw invalidArgument('logEvents needs a pino logger or a writable stream');
  return engine.onEvent((event) => {
    target.write(`${JSON.stringify({ level: numeric, time: now(), msg: `smartretry.${event.type}`, type: event.type, ...event })}\n`);
  });
}

module.exports = { Admin, serveAdmin, historyOptions, logEvents };
