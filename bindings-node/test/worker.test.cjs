'use strict';
// The engine's background plan worker (a native thread named "smartretry-plan", started when an
// engine on the system clock first learns) stops once the engine is garbage-collected, and the
// process exits cleanly. Run in a child process: it counts that process's threads by name
// (Linux /proc), and needs --expose-gc.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CHILD = `
const fs = require('node:fs');
const { Engine } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.cjs'))});
function planThreads() {
  return fs.readdirSync('/proc/self/task')
    .filter((t) => {
      try {
        return fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'smartretry-plan';
      } catch {
        return false; // a thread that ended between the listing and the read
      }
    })
    .length;
}
(async () => {
  let engine = new Engine();
  for (let i = 0; i < 300; i++) {
    const ep = engine.begin('q' + (i % 5));
    engine.onFailure(ep, { status: 503 });
    engine.onSuccess(ep);
  }
  if (planThreads() !== 1) throw new Error(planThreads() + ' workers while the engine learns');
  engine = null;
  // Finalizers run after a collection, on a later turn of the event loop.
  for (let turn = 0; turn < 100 && planThreads() > 0; turn++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (planThreads() !== 0) throw new Error('the worker outlived its engine');
  // An engine still alive at exit does not keep the process from exiting.
  const kept = new Engine();
  kept.onFailure(kept.begin('q'), { status: 503 });
  if (planThreads() !== 1) throw new Error('no worker for the second engine');
  console.log('ok');
})().catch((e) => { console.error(e); process.exit(1); });
`;

test('the plan worker stops with the engine', { skip: !fs.existsSync('/proc/self/task') }, () => {
  const done = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD], { encoding: 'utf8', timeout: 120000 });
  assert.equal(done.status, 0, done.stderr);
  assert.equal(done.stdout.trim(), 'ok');
});
