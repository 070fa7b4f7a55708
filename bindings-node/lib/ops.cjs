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

/**
 * Register the admin endpoint's metrics in a prom-client registry (the `prom-client` module is
 * the caller's, passed in: this package does not depend on it). Counters and gauges are read
 * from the engine at each scrape; the two histograms stay on the endpoint's own /metrics.
 */
function registerPromClient(admin, client, registry = client.register) {
  if (!(admin instanceof Admin)) throw invalidArgument('registerPromClient needs an Admin from engine.serveAdmin()');
  if (!client || typeof client.Counter !== 'function' || typeof client.Gauge !== 'function') {
    throw invalidArgument('registerPromClient needs the prom-client module');
  }
  const families = [
    ['Counter', 'smartretry_decisions_total', 'Decisions by the tier that made them.', ['tier'],
      (m) => Object.entries(m.decisions_by_tier).map(([tier, n]) => [{ tier }, n])],
    ['Counter', 'smartretry_clamps_total', 'Guardrail overrides of a proposed delay, by guardrail.', ['guardrail'],
      (m) => Object.entries(m.clamps).map(([guardrail, n]) => [{ guardrail }, n])],
    ['Counter', 'smartretry_fallbacks_total', 'Decisions that fell back while a model was learning.', [],
      (m) => [[{}, m.fallbacks]]],
    ['Counter', 'smartretry_calls_avoided_total', 'Attempts the static schedule would have made beyond those made.', ['class'],
      (m) => Object.entries(m.calls_avoided).map(([cls, v]) => [{ class: cls }, v.avoided])],
    ['Gauge', 'smartretry_model_brier', 'Brier score of p(success) per model.', ['key', 'class'],
      (m) => m.models.filter((x) => x.brier !== null).map((x) => [{ key: x.key, class: x.class }, x.brier])],
    ['Gauge', 'smartretry_model_drift', '|recent mean of (outcome - p)| per model.', ['key', 'class'],
      (m) => m.models.map((x) => [{ key: x.key, class: x.class }, x.drift])],
  ];
  for (const [kind, name, help, labelNames, values] of families) {
    const metric = new client[kind]({
      name,
      help,
      labelNames,
      registers: [],
      collect() {
        this.reset();
        for (const [labels, n] of values(admin.metricsObject())) {
          if (kind === 'Counter') this.inc(labels, n);
          else this.set(labels, n);
        }
      },
    });
    registry.registerMetric(metric);
  }
}

module.exports = { Admin, serveAdmin, historyOptions, logEvents, registerPromClient };
