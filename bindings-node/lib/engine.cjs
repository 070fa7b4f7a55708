'use strict';
// The engine for JS callers: the native class with policies and patches as objects, and engine
// errors as SmartRetryError. Every call is synchronous.

const native = require('../index.js');
const { translate } = require('./errors.cjs');

const json = (v) => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));

class Engine {
  /**
   * @param {object|string} [policy] partial policy (durations in seconds) over the defaults
   * @param {{clock?: native.ManualClock}} [options]
   */
  constructor(policy, options = {}) {
    try {
      this.native = new native.Engine(json(policy), options.clock);
    } catch (e) {
      throw translate(e);
    }
    this.clock = options.clock;
  }

  now() { return this.native.now(); }

  begin(key, tenant) {
    try { return this.native.begin(key, tenant); } catch (e) { throw translate(e); }
  }

  onFailure(episode, failure) {
    try { return this.native.onFailure(episode, failure); } catch (e) { throw translate(e); }
  }

  onHttpFailure(episode, status, retryAfter, dependency) {
    try { return this.native.onHttpFailure(episode, status, retryAfter, dependency); } catch (e) { throw translate(e); }
  }

  onClassFailure(episode, errorClass) {
    try { return this.native.onClassFailure(episode, errorClass); } catch (e) { throw translate(e); }
  }

  recommend(episode, failure) {
    try { return this.native.recommend(episode, failure); } catch (e) { throw translate(e); }
  }

  record(episode, failure) {
    try { return this.native.record(episode, failure); } catch (e) { throw translate(e); }
  }

  onSuccess(episode, dependency) {
    try { this.native.onSuccess(episode, dependency); } catch (e) { throw translate(e); }
  }

  /** A first-attempt success in one call (no episode object). */
  succeed(key, tenant, dependency) {
    try { this.native.succeed(key, tenant, dependency); } catch (e) { throw translate(e); }
  }

  abandon(episode) { this.native.abandon(episode); }

  classify(failure) {
    try { return this.native.classify(failure); } catch (e) { throw translate(e); }
  }

  preview(key, failure, { tenant, steps } = {}) {
    try { return this.native.preview(key, tenant, failure, steps); } catch (e) { throw translate(e); }
  }

  recoveryCurve(key, errorClass, tenant) {
    try { return this.native.recoveryCurve(key, tenant, errorClass); } catch (e) { throw translate(e); }
  }

  /** The policy in force (durations in seconds). */
  policy() { return JSON.parse(this.native.policyJson()); }

  setPolicy(policy) {
    try { this.native.setPolicy(json(policy)); } catch (e) { throw translate(e); }
  }

  /** Override part of the policy for `{queue}` or `{tenant}`, for one class or all. */
  setOverride(scope, patch, errorClass) {
    const [kind, name] = scopeOf(scope);
    try { this.native.setOverride(kind, name, errorClass, json(patch)); } catch (e) { throw translate(e); }
  }

  clearOverride(scope, errorClass) {
    const [kind, name] = scopeOf(scope);
    try { this.native.clearOverride(kind, name, errorClass); } catch (e) { throw translate(e); }
  }

  overrides() { return this.native.overrides(); }

  snapshot() { return this.native.snapshot(); }

  restore(buffer) {
    try { this.native.restore(buffer); } catch (e) { throw translate(e); }
  }

  merge(buffer) {
    try { this.native.merge(buffer); } catch (e) { throw translate(e); }
  }

  saveSnapshot(path) {
    try { this.native.saveSnapshot(path); } catch (e) { throw translate(e); }
  }

  loadSnapshot(path) {
    try { this.native.loadSnapshot(path); } catch (e) { throw translate(e); }
  }

  mergeSnapshot(path) {
    try { this.native.mergeSnapshot(path); } catch (e) { throw translate(e); }
  }

  stats() { return this.native.stats(); }

  resetStats() { this.native.resetStats(); }

  /** `callback(event)` for every engine event, delivered asynchronously on the event loop. */
  onEvent(callback) {
    if (typeof callback !== 'function') throw new TypeError('onEvent needs a function');
    this.native.onEvent(callback);
  }

  clearObservers() { this.native.clearObservers(); }

  breakerState(dependency) { return this.native.breakerState(dependency); }

  recordDependency(dependency, ok) {
    try { return this.native.recordDependency(dependency, ok); } catch (e) { throw translate(e); }
  }
}

function scopeOf(scope) {
  if (scope && typeof scope.queue === 'string') return ['queue', scope.queue];
  if (scope && typeof scope.tenant === 'string') return ['tenant', scope.tenant];
  throw new TypeError('scope must be {queue: name} or {tenant: name}');
}

let defaultEngine;
/** The process-wide engine on the system clock with the default policy (created on first use). */
function getDefaultEngine() {
  defaultEngine ??= new Engine();
  return defaultEngine;
}

module.exports = { Engine, getDefaultEngine, ManualClock: native.ManualClock, Episode: native.Episode, Recommendation: native.Recommendation, version: native.version };
