import test from 'node:test';
import assert from 'node:assert/strict';
import { retry, retryBatch, AbortError, GiveUpError, SmartRetryError } from '../lib/index.mjs';
import helpers from './helpers.cjs';

const { manualEngine } = helpers;

test('retries until success, advancing only the manual clock', async () => {
  const { engine, clock, sleep } = manualEngine();
  const start = clock.now();
  const seen = [];
  const value = await retry(async (attempt) => {
    seen.push(attempt);
    if (attempt < 3) throw Object.assign(new Error('unavailable'), { status: 503 });
    return 'ok';
  }, { engine, key: 'jobs', sleep });
  assert.equal(value, 'ok');
  assert.deepEqual(seen, [1, 2, 3]);
  assert.ok(clock.now() > start, 'the waits moved the manual clock');
  const s = engine.stats();
  assert.deepEqual([s.failures, s.retries, s.successes, s.successes_after_retry], [2, 2, 1, 1]);
});

test('a zero delay creates no timer at all', async (t) => {
  const { engine } = manualEngine();
  let timers = 0;
  const real = globalThis.setTimeout;
  globalThis.setTimeout = (...args) => {
    timers++;
    return real(...args);
  };
  t.after(() => {
    globalThis.setTimeout = real;
  });
  // A timeout's first retry goes at once.
  const value = await retry(async (attempt) => {
    if (attempt === 1) throw Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
    return attempt;
  }, { engine, key: 'fast' });
  globalThis.setTimeout = real;
  assert.equal(value, 2);
  assert.equal(timers, 0);
});

test('an abort during the wait rejects at once with the reason', async () => {
  const { engine } = manualEngine({ classes: { unavailable: { min_delay: 3600, max_delay: 3600 } } });
  const controller = new AbortController();
  const reason = new Error('shutting down');
  let calls = 0;
  const running = retry(async () => {
    calls++;
    queueMicrotask(() => setImmediate(() => controller.abort(reason)));
    throw Object.assign(new Error('busy'), { status: 503 });
  }, { engine, key: 'abort', signal: controller.signal });
  await assert.rejects(running, (e) => e === reason);
  assert.equal(calls, 1);
  // Already aborted: nothing runs.
  await assert.rejects(retry(() => assert.fail('ran'), { engine, signal: AbortSignal.abort(reason) }), (e) => e === reason);
});

test('AbortError stops at once with the original error', async () => {
  const { engine, sleep } = manualEngine();
  const original = new Error('invalid input');
  let calls = 0;
  await assert.rejects(retry(() => {
    calls++;
    throw new AbortError(original);
  }, { engine, sleep }), (e) => e === original);
  assert.equal(calls, 1);
});

test('permanent errors are not retried; the last error is thrown', async () => {
  const { engine, sleep } = manualEngine();
  let calls = 0;
  const err = Object.assign(new Error('not found'), { status: 404 });
  await assert.rejects(retry(() => { calls++; throw err; }, { engine, sleep }), (e) => e === err);
  assert.equal(calls, 1);
  assert.equal(engine.stats().give_ups, 1);
});

test('fetch Responses: 429/503 are failures, Retry-After honoured, last Response returned on give-up', async () => {
  const { engine, sleep } = manualEngine();
  const waits = [];
  const responses = [
    new Response('slow down', { status: 429, headers: { 'retry-after': '2' } }),
    new Response('down', { status: 503 }),
    new Response('fine', { status: 200 }),
  ];
  const res = await retry(() => responses.shift(), {
    engine,
    key: 'api',
    sleep: (ms) => { waits.push(ms); sleep(ms); },
  });
  assert.equal(await res.text(), 'fine');
  assert.equal(waits.length, 2);
  assert.ok(waits[0] >= 2000, `Retry-After honoured: ${waits[0]}`);
  const notFound = await retry(() => new Response('nope', { status: 404 }), { engine, sleep });
  assert.equal(notFound.status, 404);
});

test('isFailure rejects values; GiveUpError carries the recommendation', async () => {
  const { engine, sleep } = manualEngine();
  await assert.rejects(
    retry(() => ({ ok: false }), { engine, sleep, isFailure: (v) => !v.ok }),
    (e) => e instanceof GiveUpError && e.recommendation.action === 'give_up' && e.value.ok === false,
  );
});

test('retryBatch retries only the failed items, each with its own decisions', async () => {
  const { engine, sleep } = manualEngine();
  const calls = { a: 0, b: 0, c: 0 };
  const results = await retryBatch(['a', 'b', 'c'], async (item) => {
    calls[item]++;
    if (item === 'b' && calls.b < 3) throw Object.assign(new Error('busy'), { status: 503 });
    if (item === 'c') throw Object.assign(new Error('bad'), { status: 422 });
    return item.toUpperCase();
  }, { engine, key: 'batch', sleep });
  assert.deepEqual(calls, { a: 1, b: 3, c: 1 });
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
  assert.deepEqual([results[0].value, results[1].value], ['A', 'B']);
  assert.equal(results[2].reason.status, 422);
});

test('invalid keys reject with a SmartRetryError', async () => {
  const { engine } = manualEngine();
  await assert.rejects(retry(() => 1, { engine, key: '' }), (e) => e instanceof SmartRetryError && e.code === 'INVALID_KEY');
});

test('the first attempt: a synchronous throw is a failure, a plain value or a thenable is the result, bad options reject', async () => {
  const { engine } = manualEngine();
  const timeout = () => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
  const seen = [];
  const value = await retry((attempt, ctx) => {
    seen.push([attempt, ctx.episode === null]);
    if (attempt === 1) throw timeout(); // not a rejected promise: thrown before any await
    return 'second';
  }, { engine, key: 'first' });
  assert.equal(value, 'second');
  assert.deepEqual(seen, [[1, true], [2, false]]);
  assert.equal(await retry(() => 7, { engine, key: 'first' }), 7);
  assert.equal(await retry(() => ({ then: (ok) => ok('thenable') }), { engine, key: 'first' }), 'thenable');
  let calls = 0;
  assert.equal(await retry(() => (++calls === 1 ? { then: (_, fail) => fail(timeout()) } : 'after'), { engine, key: 'first' }), 'after');
  const s = engine.stats();
  assert.deepEqual([s.failures, s.retries, s.successes, s.successes_after_retry], [2, 2, 4, 2]);
  // Bad options and an aborted signal are rejections, never a synchronous throw, and run nothing.
  let ran = false;
  const bad = retry(() => { ran = true; }, { engine, retries: -1 });
  assert.ok(bad instanceof Promise);
  await assert.rejects(bad, (e) => e instanceof SmartRetryError && e.code === 'INVALID_ARGUMENT');
  const aborted = retry(() => { ran = true; }, { engine, signal: AbortSignal.abort(new Error('stop')) });
  await assert.rejects(aborted, (e) => e.message === 'stop');
  assert.equal(ran, false);
  // isFailure rejecting the first value hands it to the loop (and its own throw rejects).
  let n = 0;
  assert.equal(await retry(() => ++n, { engine, key: 'first', isFailure: (v) => v < 2 }), 2);
  await assert.rejects(retry(() => 1, { engine, isFailure: () => { throw new Error('judge'); } }), (e) => e.message === 'judge');
});
