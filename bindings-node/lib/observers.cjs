'use strict';
// Event listeners of one engine. The native side delivers each event (the core's event JSON)
// to one dispatcher per engine; the dispatcher calls every listener and catches what it throws,
// because an exception thrown from a ThreadsafeFunction callback is uncaught and would end the
// process: a buggy dashboard hook must never take the service down with it.

class Observers {
  constructor(native) {
    this.native = native;
    this.listeners = [];
    this.installed = false;
    /** Exceptions thrown by listeners, caught and counted. */
    this.errors = 0;
    this.warned = false;
  }

  add(listener) {
    this.listeners.push(listener);
    if (!this.installed) {
      this.native.onEvent((event) => this.dispatch(event));
      this.installed = true;
    }
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  clear() {
    this.listeners = [];
    this.installed = false;
    this.native.clearObservers();
  }

  dispatch(event) {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.report(err);
      }
    }
  }

  /** Count it; warn once per engine (a warning per event would flood the log). */
  report(err) {
    this.errors++;
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(`an onEvent listener threw (further errors are only counted in engine.observerErrors): ${err?.stack ?? err}`, {
      code: 'SMARTRETRY_OBSERVER_ERROR',
    });
  }
}

module.exports = { Observers };
