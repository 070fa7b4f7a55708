'use strict';
// RetrySchedule for JS callers: the native class (durable retries on a SQLite file or Redis)
// with every error a SmartRetryError with a code (INVALID_ARGUMENT, SCHEDULE_STORAGE) and
// payloads given as a Buffer or a string.

const native = require('../index.js');
const { guard } = require('./errors.cjs');

const bytes = (payload) => (typeof payload === 'string' ? Buffer.from(payload) : payload);

class RetrySchedule {
  /**
   * @param {string} location a SQLite file path, or a `redis://` / `rediss://` URL
   * @param {{namespace?: string}} [options] the Redis namespace (default "default")
   */
  constructor(location, options = {}) {
    this.native = guard(() => new native.RetrySchedule(location, options.namespace));
  }

  /** Store the retry of `jobId`, due at `due` (Unix seconds; `engine.now()` + a delay). */
  schedule(jobId, payload, due) { guard(() => this.native.schedule(jobId, bytes(payload), due)); }

  /** Store the retry the engine recommended at `now`; false (nothing stored) on a stop. */
  scheduleRecommended(jobId, payload, now, recommendation) {
    return guard(() => this.native.scheduleRecommended(jobId, bytes(payload), now, recommendation));
  }

  /** Up to `limit` retries due at `now`, each leased for `leaseSecs` seconds. */
  claimDue(now, limit, leaseSecs) { return guard(() => this.native.claimDue(now, limit, leaseSecs)); }

  ack(jobId) { return guard(() => this.native.ack(jobId)); }

  nack(jobId, due) { return guard(() => this.native.nack(jobId, due)); }

  /** Retries stored, due or not, claimed or not. */
  count() { return guard(() => this.native.count()); }
}

module.exports = { RetrySchedule };
