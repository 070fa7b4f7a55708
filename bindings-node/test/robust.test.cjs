'use strict';
// No crash, no hammering: a throwing listener is caught and counted, the event queue is
// bounded and counts its drops, a long wait is a chain of timers.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Engine, ManualClock, sleep } = require('../lib/index.cjs');
const { MAX_TIMER_MS } = require('../lib/retry.cjs');
const native = require('../index.js');

// Events reach JS through a weak queue that never keeps the process alive (an observer must not
// hold a service open), so a test awaiting them holds the event loop open itself meanwhile.
async function whileHeld(promise) {
  const hold = setInterval(() => {}, 60_000);
  try {
    return await promise;
  } finally {
    clearInterval(hold);
  }
}

test('a throwing onEvent listener is caught, counted and warned about once', async () => {
  const engine = new Engine({ seed: 1 }, { clock: new ManualClock() });
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  let delivered = 0;
  engine.onEvent(() => {
    throw new Error('dashboard bug');
  });
  const done = new Promise((resolve) => {
    engine.onEvent((ev) => {
      delivered++;
      if (ev.type === 'success' && delivered === 6) resolve();
    });
  });
  for (let i = 0; i < 2; i++) {
    const ep = engine.begin('q');
    engine.onFailure(ep, { status: 503 });
    engine.onSuccess(ep);
  }
  await whileHeld(done);
  await new Promise((r) => setImmediate(r)); // let the warning event be emitted
  process.off('warning', onWarning);
  assert.equal(delivered, 6, 'the second listener still saw every event');
  assert.equal(engine.observerErrors, 6);
  const ours = warnings.filter((w) => w.code === 'SMARTRETRY_OBSERVER_ERROR');
  assert.equal(ours.length, 1);
  assert.match(ours[0].message, /dashboard bug/);
});

test('events are in the core schema; the queue is bounded and counts what it drops', async () => {
  const engine = new Engine({ seed: 1, learning: { enabled: false } }, { clock: new ManualClock() });
  let delivered = 0;
  let first;
  let resolve;
  const all = new Promise((r) => { resolve = r; });
  let expected = Infinity;
  engine.onEvent((ev) => {
    first ??= ev;
    delivered++;
    if (delivered === expected) resolve();
  });
  // Synchronously: the JS thread cannot deliver anything until this loop ends.
  const episodes = 15_000;
  for (let i = 0; i < episodes; i++) {
    engine.onFailure(engine.begin('flood'), { code: 'ECONNRESET' });
  }
  const emitted = episodes * 2; // attempt + decision
  const dropped = engine.droppedEvents;
  assert.ok(dropped > 0 && dropped <= emitted - 10_000, `dropped ${dropped}`);
  expected = emitted - dropped;
  // The native queue is weak (never keeps a process alive): hold the loop open while it drains.
  const keepAlive = setInterval(() => {}, 60_000);
  await whileHeld(all);
  clearInterval(keepAlive);
  assert.equal(delivered, expected);
  assert.deepEqual(first, { type: 'attempt', key: 'flood', tenant: null, class: 'connection', attempt: 1, elapsed: 0 });
});

test('stats are the core schema: snake_case keys', () => {
  const engine = new Engine(null, { clock: new ManualClock() });
  engine.succeed('q');
  const s = engine.stats();
  assert.equal(s.successes, 1);
  assert.ok('successes_after_retry' in s && 'give_ups' in s && !('giveUps' in s));
});

test('a first-attempt success by key number counts as the string call does, past 1,024 keys too', () => {
  const clock = new ManualClock();
  const policy = { budget: { kind: 'aws_standard', capacity: 6 } };
  const [numbered, plain] = [new Engine(policy, { clock }), new Engine(policy, { clock })];
  for (let i = 0; i < 1_100; i++) {
    const key = `k${i % 1_050}`;
    numbered.succeed(key); // numbered after the first call on each key (1,024 at most)
    const ep = plain.begin(key);
    plain.onSuccess(ep);
  }
  assert.deepEqual(numbered.stats(), plain.stats());
  assert.equal(numbered.stats().successes, 1_100);
  assert.equal(numbered.keyNumbers.get('k0'), 0);
  assert.equal(numbered.keyNumbers.get('k1049'), -1, 'past the native table: the string path');
  assert.throws(() => numbered.succeed(''), (e) => e.code === 'INVALID_KEY');
  assert.ok(!numbered.keyNumbers.has(''), 'a refused key gets no number');
  for (const bad of [NaN, -1, 1.5, Infinity, 5_000]) {
    assert.throws(() => native.engineSucceedKey(numbered.id, bad), /\[INVALID_STATE\] no key has number/, String(bad));
  }
  assert.equal(numbered.stats().successes, 1_100, 'a bad key number records nothing');
});

test('an episode handle begun by key number is the episode the key string begins, past 1,024 keys too', () => {
  const clock = new ManualClock();
  // A timeout retry costs 10 of a key's 12 tokens: a key's second episode is refused unless a
  // success refunded the first, so a handle on the wrong key would show as another stop.
  const policy = { budget: { kind: 'aws_standard', capacity: 12 } };
  const [numbered, plain] = [new Engine(policy, { clock }), new Engine(policy, { clock })];
  const failure = { code: 'ETIMEDOUT', message: 'timed out' };
  let stops = 0;
  for (let i = 0; i < 1_100; i++) {
    const key = `k${i % 1_050}`;
    const h = numbered.beginHandle(key); // by number once the key has one (1,024 at most)
    const ep = plain.begin(key);
    const ms = numbered.onFailureDelayMs(h, failure);
    assert.equal(ms, plain.onFailureDelayMs(ep, failure), `episode ${i}`);
    if (ms < 0) stops += 1;
    if (ms < 0 || i % 3 === 0) {
      // A stop finished the episode; its handle stays open until closed.
      numbered.abandonHandle(h);
      if (ms >= 0) plain.abandon(ep);
    } else {
      numbered.onSuccessHandle(h);
      plain.onSuccess(ep);
    }
  }
  assert.ok(stops > 0 && stops < 50, `the budget refused some second episodes: ${stops}`);
  assert.deepEqual(numbered.stats(), plain.stats());
  assert.equal(numbered.keyNumbers.get('k1049'), -1, 'past the native table: the string path');
  assert.equal(numbered.openHandles, 0);
  assert.throws(() => numbered.beginHandle(''), (e) => e.code === 'INVALID_KEY');
  for (const bad of [NaN, -1, 1.5, Infinity, 5_000]) {
    assert.throws(() => native.engineBeginHandleKey(numbered.id, 9_000_001, bad), /\[INVALID_STATE\] no key has number/, String(bad));
  }
  assert.equal(numbered.openHandles, 0, 'a bad key number opens nothing');
});

test('a wait longer than 2^31-1 ms is a chain of timers, not a 1 ms timer; abort still works', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let done = false;
  const waiting = sleep(MAX_TIMER_MS + 5_000).then(() => { done = true; });
  t.mock.timers.tick(1);
  await Promise.resolve();
  assert.equal(done, false, 'not a 1 ms timer');
  t.mock.timers.tick(MAX_TIMER_MS - 1);
  await Promise.resolve();
  assert.equal(done, false);
  t.mock.timers.tick(5_000);
  await waiting;
  assert.equal(done, true);
  // An abort during the second timer of the chain rejects with the reason.
  const controller = new AbortController();
  const reason = new Error('stop');
  const aborted = sleep(3 * MAX_TIMER_MS, controller.signal);
  t.mock.timers.tick(MAX_TIMER_MS + 1);
  controller.abort(reason);
  await assert.rejects(aborted, (e) => e === reason);
});

test('429 with retry-after: 2592000 does not hammer', async () => {
  const { retry } = require('../lib/index.cjs');
  for (const preset of ['request', 'background']) {
    const clock = new ManualClock();
    const engine = new Engine({ preset, seed: 1 }, { clock });
    const waits = [];
    let calls = 0;
    const res = await retry(() => {
      calls++;
      return new Response('slow down', { status: 429, headers: { 'retry-after': '2592000' } });
    }, { engine, sleep: (ms) => { waits.push(ms); clock.advanceMs(ms); } });
    assert.equal(res.status, 429);
    // Either the engine gives up (the wait is past the deadline or max delay) or it waits at
    // least the clamped Retry-After (one day): never a burst of attempts.
    assert.ok(waits.every((ms) => ms >= 86_400_000), `${preset}: waits ${waits}`);
    assert.ok(calls <= 1 + waits.length, `${preset}: ${calls} calls`);
    assert.ok(waits.length <= 5);
  }
});
