// Behaving like p-retry, side by side with the real package: the last error itself on give-up,
// `retries` and `maxRetryTime` counted the same way; policies read as people write them.
import test from 'node:test';
import assert from 'node:assert/strict';
import pRetry from 'p-retry';
import { Engine, retry, GiveUpError, SmartRetryError } from '../lib/index.mjs';
import helpers from './helpers.cjs';

const { manualEngine } = helpers;

/** Throws a fresh 503 error for the first `failures` calls, then returns the call number. */
function failing(failures) {
  const state = { calls: 0 };
  state.fn = async () => {
    state.calls++;
    if (state.calls <= failures) throw Object.assign(new Error(`call ${state.calls}`), { status: 503 });
    return state.calls;
  };
  return state;
}

const P_RETRY_NO_WAIT = { minTimeout: 0, maxTimeout: 0, randomize: false };

for (const retries of [0, 1, 2, 5]) {
  test(`give-up with retries: ${retries} rejects with the last error, like p-retry`, async () => {
    const theirs = failing(100);
    const ours = failing(100);
    const { engine, sleep } = manualEngine();
    let theirError;
    let ourError;
    await assert.rejects(pRetry(theirs.fn, { retries, ...P_RETRY_NO_WAIT }), (e) => { theirError = e; return true; });
    await assert.rejects(retry(ours.fn, { engine, sleep, key: 'parity', retries }), (e) => { ourError = e; return true; });
    assert.equal(ours.calls, theirs.calls);
    assert.equal(ours.calls, retries + 1);
    assert.equal(ourError.constructor, theirError.constructor);
    assert.equal(ourError.message, theirError.message);
    assert.equal(ourError.status, 503);
    assert.equal(ourError.recommendation.action, 'give_up');
    assert.match(ourError.recommendation.reason, new RegExp(`the limit is ${retries + 1}`));
  });
}

test('success after failures resolves with the same value as p-retry', async () => {
  for (const failures of [0, 1, 3]) {
    const { engine, sleep } = manualEngine();
    const theirs = await pRetry(failing(failures).fn, { retries: 5, ...P_RETRY_NO_WAIT });
    const ours = await retry(failing(failures).fn, { engine, sleep, retries: 5 });
    assert.equal(ours, theirs);
  }
});

test('wrapError: a GiveUpError whose message carries the reason and whose cause is the error', async () => {
  const { engine, sleep } = manualEngine();
  const f = failing(100);
  await assert.rejects(retry(f.fn, { engine, sleep, key: 'wrapped', retries: 1, wrapError: true }), (e) => {
    assert.ok(e instanceof GiveUpError);
    assert.equal(e.code, 'GIVE_UP');
    assert.equal(e.cause.message, 'call 2');
    assert.equal(e.message, `wrapped: give up after 2 attempt(s): ${e.recommendation.reason}`);
    return true;
  });
});

test('maxRetryTime is a deadline for the call, from the first failure', async () => {
  const { engine, clock, sleep } = manualEngine({ seed: 1, learning: { enabled: false } });
  const start = clock.now();
  const f = failing(1000);
  await assert.rejects(retry(f.fn, { engine, sleep, retries: 1000, maxRetryTime: 100_000 }), (e) => {
    assert.match(e.recommendation.reason, /100\.0 s deadline/);
    return true;
  });
  assert.ok(clock.now() - start <= 100);
  assert.ok(f.calls > 4, `more than the class's 4 attempts: ${f.calls}`);
});

test('isFailure with retries: a rejected value after the same attempts', async () => {
  const { engine, sleep } = manualEngine();
  let n = 0;
  await assert.rejects(retry(() => ++n, { engine, sleep, key: 'vals', retries: 2, isFailure: () => true }), (e) => {
    assert.ok(e instanceof GiveUpError);
    assert.equal(e.value, 3);
    assert.match(e.message, /^vals: give up after 3 attempt\(s\): /);
    return true;
  });
  assert.equal(n, 3);
});

test('bad retries / maxRetryTime are INVALID_ARGUMENT', async () => {
  const { engine } = manualEngine();
  for (const options of [{ retries: -1 }, { retries: 1.5 }, { maxRetryTime: 0 }, { maxRetryTime: 'soon' }]) {
    await assert.rejects(retry(() => 1, { engine, ...options }), (e) => e instanceof SmartRetryError && e.code === 'INVALID_ARGUMENT');
  }
});

test('policy shortcuts: max_attempts, failure_cost, deadline, preset', () => {
  let p = new Engine({ max_attempts: 6 }).policy();
  assert.equal(p.classes.unavailable.max_attempts, 6);
  assert.equal(p.classes.not_found.max_attempts, 1);
  p = new Engine({ failure_cost: 1 }).policy();
  assert.equal(p.learning.failure_cost, 1);
  p = new Engine({ preset: 'request', deadline: 5, max_attempts: 2 }).policy();
  assert.deepEqual([p.preset, p.deadline, p.classes.connection.max_attempts], ['request', 5, 2]);
});

test('an array of policies merges deeply, the later winning', () => {
  const base = { learning: { min_episodes: 5, half_life_episodes: 50 }, deadline: 60 };
  const p = new Engine([base, { learning: { exploration: 0 } }, '{"deadline": null}']).policy();
  assert.deepEqual(
    [p.learning.min_episodes, p.learning.half_life_episodes, p.learning.exploration, p.deadline],
    [5, 50, 0, null],
  );
});

test('policy errors name the field by its path', () => {
  for (const [policy, path] of [
    [{ classes: { unavailable: { strategy: { kind: 'full_jitter', base: 1, factr: 2 } } } }, 'classes.unavailable.strategy.factr'],
    [{ learning: { min_episodes: 'five' } }, 'learning.min_episodes'],
    [{ max_attempts: 0 }, 'max_attempts'],
    [[{}, { dedline: 5 }], 'dedline'],
  ]) {
    assert.throws(() => new Engine(policy), (e) => {
      assert.ok(e instanceof SmartRetryError);
      assert.equal(e.code, 'INVALID_POLICY');
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      return true;
    });
  }
});
