'use strict';
// FleetStore for JS callers: the native class with every error a SmartRetryError with a code
// (INVALID_CONFIG, FLEET_UNAVAILABLE, INVALID_STATE).

const native = require('../index.js');
const { guard } = require('./errors.cjs');

class FleetStore {
  /**
   * Join `engine` to the fleet at `url` (`redis://` or `rediss://`, with auth).
   * @param {import('./engine.cjs').Engine} engine
   * @param {string} url
   * @param {{namespace?: string, syncInterval?: number, syncAfterEpisodes?: number,
   *   ioTimeout?: number, engineId?: string, background?: boolean, shareBudgets?: number,
   *   shareBreakers?: boolean}} [options] `shareBudgets: n` shares the policy's retry budgets
   *   with a fleet of about n processes; `shareBreakers` shares open circuit breakers.
   */
  constructor(engine, url, options) {
    this.native = guard(() => new native.FleetStore(engine.native, url, options));
  }

  syncNow() { guard(() => this.native.syncNow()); }

  get engineId() { return guard(() => this.native.engineId); }

  stats() { return guard(() => this.native.stats()); }

  close() { this.native.close(); }
}

module.exports = { FleetStore };
