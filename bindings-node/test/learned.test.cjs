'use strict';
// The learned tier from Node: the attempt context (in the history, and refused when wrong),
// model files (tests/fixtures/learned: the window model, a deliberately bad one, a damaged
// copy) and rollouts (manual steps, evidence before promotion, automatic rollback). Time is a
// ManualClock: nothing sleeps.

const test = require('node:test');
const { scratchDir } = require('./helpers.cjs');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Engine, ManualClock, SmartRetryError, retry, pRetryOptions, EngineBackoff } = require('../lib/index.cjs');

const FIXTURES = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'learned');
const WINDOW = path.join(FIXTURES, 'window.srm');
const BAD = path.join(FIXTURES, 'bad.srm');
const DAMAGED = path.join(FIXTURES, 'damaged.srm');
/** The window model plus one tree: deep queues (above 500) recover slowly. */
const BOOSTED = path.join(FIXTURES, 'boosted.srm');

/** 2023-11-14 (a Tuesday) at `h` hours UTC, Unix seconds. */
const atHour = (h) => 1_699_920_000 + h * 3600;

function tmp() {
  return scratchDir('smartretry-learned-');
}

function code(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SmartRetryError, String(e));
    return e.code;
  }
  assert.fail('no error');
}

function readHistory(file) {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('the attempt context is recorded with each attempt in the history', () => {
  const clock = new ManualClock(atHour(13));
  const engine = new Engine(null, { clock });
  const file = path.join(tmp(), 'h.jsonl');
  engine.writeHistory(file);
  const context = { queueDepth: 120, payloadSize: 4096, downstreamLatency: 0.35, workerVersion: 'w-2' };
  const ep = engine.begin('reports', { context });
  for (const [k, v] of Object.entries(context)) assert.equal(ep.context[k], v, k);
  assert.equal(ep.context.hourOfDay ?? null, null);
  const rec = engine.onFailure(ep, { status: 503 });
  clock.advance(rec.delay);
  ep.setContext({ ...context, queueDepth: 80 });
  engine.onSuccess(ep);
  // The positional form: begin(key, tenant, limits, context).
  const ep2 = engine.begin('reports', 'acme', null, { queueDepth: 7, dayOfWeek: 6, hourOfDay: 23.5 });
  engine.onFailure(ep2, { status: 503 });
  engine.abandon(ep2);
  engine.flushHistory();
  const lines = readHistory(file);
  assert.deepEqual(lines.map((r) => r.queue_depth), [120, 80, 7]);
  assert.equal(lines[0].payload_size, 4096);
  assert.equal(lines[0].downstream_latency, 0.35);
  assert.equal(lines[0].worker_version, 'w-2');
  assert.equal(lines[0].hour_of_day, 13); // the clock's, none given
  assert.equal(lines[1].outcome, 'success');
  assert.equal(lines[2].tenant, 'acme');
  assert.deepEqual([lines[2].hour_of_day, lines[2].day_of_week], [23, 6]);
});

test('a bad context is a coded error, never a crash, and changes nothing', () => {
  const engine = new Engine(null, { clock: new ManualClock(atHour(9)) });
  const begin = (context) => code(() => engine.begin('q', { context }));
  assert.equal(begin({ queueDepth: -3 }), 'INVALID_CONFIG');
  assert.equal(begin({ queueDepth: 1.5 }), 'INVALID_CONFIG');
  assert.equal(begin({ payloadSize: NaN }), 'INVALID_CONFIG');
  assert.equal(begin({ hourOfDay: 24 }), 'INVALID_CONFIG');
  assert.equal(begin({ hourOfDay: NaN }), 'INVALID_CONFIG');
  assert.equal(begin({ dayOfWeek: 7 }), 'INVALID_CONFIG');
  assert.equal(begin({ dayOfWeek: -1 }), 'INVALID_CONFIG');
  assert.equal(begin({ dayOfWeek: 2 ** 40 }), 'INVALID_CONFIG');
  assert.equal(begin({ downstreamLatency: -0.1 }), 'INVALID_DURATION');
  assert.equal(begin({ downstreamLatency: NaN }), 'INVALID_DURATION');
  assert.equal(begin({ downstreamLatency: 86_401 }), 'INVALID_DURATION');
  assert.equal(begin({ workerVersion: '' }), 'INVALID_KEY');
  // A misspelt field is refused rather than read as "no queue depth".
  assert.equal(begin({ queueDepht: 3 }), 'INVALID_ARGUMENT');
  assert.equal(begin('deep'), 'INVALID_ARGUMENT');
  assert.equal(code(() => engine.begin('q', { tenant: 'a', contxt: {} })), 'INVALID_ARGUMENT');
  assert.equal(code(() => engine.begin('q', { queueDepth: 'deep' })), 'INVALID_ARGUMENT');
  // setContext: the same checks, and the episode keeps the context it had.
  const ep = engine.begin('q', { context: { queueDepth: 5 } });
  assert.equal(code(() => ep.setContext({ queueDepth: -1 })), 'INVALID_CONFIG');
  assert.equal(code(() => ep.setContext({ hourOfDay: -1 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setContext(ep, { downstreamLatency: -1 })), 'INVALID_DURATION');
  assert.equal(code(() => ep.setContext(null)), 'INVALID_ARGUMENT');
  assert.equal(ep.context.queueDepth, 5);
  ep.setContext({ queueDepth: 6 });
  assert.equal(ep.context.queueDepth, 6);
});

test('the window model at full rollout waits out the window and says why', () => {
  const clock = new ManualClock(atHour(2 + 5 / 60));
  const engine = new Engine({ classes: { unavailable: { max_delay: 3600 } } }, { clock });
  // Without a model, no queue can be switched on.
  assert.equal(code(() => engine.setRollout('db', 'full')), 'INVALID_STATE');
  assert.equal(code(() => engine.setRollout('db', 'canary:0.3')), 'INVALID_STATE');
  assert.equal(code(() => engine.setRollout('db', 'sideways')), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRollout('db', 'canary:1.5')), 'INVALID_CONFIG');
  engine.setRollout('db', 'off'); // off needs no model
  const info = engine.loadModel('db', WINDOW);
  assert.ok(info.features > 295, JSON.stringify(info));
  assert.equal(info.feature_names.length, info.features);
  assert.ok(info.feature_names.includes('time_of_day=02:20'));
  assert.equal(typeof info.training.rows, 'number');
  assert.equal(typeof info.metrics.holdout_auc, 'number');
  engine.setRollout('db', 'full');
  const ep = engine.begin('db');
  const rec = engine.onFailure(ep, { status: 503 });
  assert.equal(rec.tier, 'learned', String(rec));
  // 02:05 -> 02:20.
  assert.ok(Math.abs(rec.delay - 900) < 0.01, String(rec));
  assert.match(rec.reason, /time_of_day=02:20/);
  assert.match(rec.reason, /moved most by/);
  assert.equal(engine.learnedStats().decisions, 1);
  const status = engine.rolloutStatus('db');
  assert.deepEqual(status.mode, { mode: 'full' });
  assert.equal(status.model_loaded, true);
  assert.equal(status.last_change, 'operator');
  assert.equal(engine.rolloutStatus('elsewhere'), null);
  assert.deepEqual(engine.rollouts().map((s) => s.queue), ['db']);
  // Another queue is untouched.
  const other = engine.onFailure(engine.begin('other'), { status: 503 });
  assert.notEqual(other.tier, 'learned');
  // The context's calendar is the caller's when given: at "noon" the window is not open.
  const noon = engine.onFailure(engine.begin('db', { context: { hourOfDay: 12 } }), { status: 503 });
  assert.ok(noon.delay < 900, String(noon));
});

test('a boosted model reads the load through its trees', () => {
  const engine = new Engine({ classes: { unavailable: { max_delay: 3600 } } }, { clock: new ManualClock(atHour(13)) });
  const info = engine.loadModel('db', BOOSTED);
  assert.deepEqual([info.kind, info.trees], ['boosted', 1]);
  assert.equal(engine.loadModel('other', WINDOW).kind, 'logistic');
  engine.setRollout('db', 'full');
  const at = (queueDepth) => {
    const rec = engine.onFailure(engine.begin('db', { context: { queueDepth } }), { status: 503 });
    assert.equal(rec.tier, 'learned', String(rec));
    return rec;
  };
  const shallow = at(20);
  const deep = at(5000);
  assert.ok(shallow.delay < 1, String(shallow));
  assert.ok(deep.delay > 30 * Math.max(shallow.delay, 0.01), String(deep));
  assert.match(deep.reason, /trees/);
});

test('a damaged model is INVALID_MODEL and the queue keeps its model; unloading falls back', () => {
  const clock = new ManualClock(atHour(2 + 5 / 60));
  const engine = new Engine({ classes: { unavailable: { max_delay: 3600 } } }, { clock });
  engine.loadModel('db', WINDOW);
  engine.setRollout('db', 'full');
  assert.equal(code(() => engine.loadModel('db', DAMAGED)), 'INVALID_MODEL');
  assert.equal(code(() => engine.loadModel('db', path.join(FIXTURES, 'missing.srm'))), 'IO');
  const rec = engine.onFailure(engine.begin('db'), { status: 503 });
  assert.equal(rec.tier, 'learned', String(rec)); // still the window model
  assert.ok(Math.abs(rec.delay - 900) < 0.01, String(rec));
  // Without a model the mode stays but the decision falls through, counted.
  engine.unloadModel('db');
  assert.equal(engine.rolloutStatus('db').model_loaded, false);
  const fallback = engine.onFailure(engine.begin('db'), { status: 503 });
  assert.notEqual(fallback.tier, 'learned');
  assert.equal(engine.learnedStats().fallbacks, 1);
});

test('rollout config: defaults, camelCase keys, refused values', () => {
  const engine = new Engine(null, { clock: new ManualClock(atHour(9)) });
  engine.setRolloutConfig('q', { minEpisodes: 20, rollbackRegression: 0.2, autoPromote: false, canaryWeight: 0.5, z: 2 });
  engine.setRolloutConfig('q', {});
  assert.equal(code(() => engine.setRolloutConfig('q', { minEpisodes: 1 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRolloutConfig('q', { minEpisodes: -5 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRolloutConfig('q', { z: NaN })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRolloutConfig('q', { canaryWeight: 0 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRolloutConfig('q', { minEpisode: 20 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.setRolloutConfig('q', null)), 'INVALID_ARGUMENT');
  assert.equal(code(() => engine.setRolloutConfig('', {})), 'INVALID_KEY');
  // A queue with no rollout cannot be promoted.
  assert.equal(code(() => engine.promoteRollout('nothing')), 'INVALID_STATE');
});

/** Jobs whose dependency recovers 2 s after the first failure, every 10 minutes. */
function runJobs(engine, clock, queue, jobs) {
  const delays = [];
  for (let j = 0; j < jobs; j++) {
    clock.advance(600);
    const start = engine.now();
    const ep = engine.begin(queue);
    for (;;) {
      if (engine.now() - start >= 2 && ep.attempts > 0) {
        engine.onSuccess(ep);
        break;
      }
      const rec = engine.onFailure(ep, { status: 503 });
      if (!rec.shouldRetry) break;
      delays.push(rec.delay);
      clock.advance(rec.delay);
    }
  }
  return delays;
}

test('a bad model at canary 0.5 is rolled back automatically within the bound', () => {
  const clock = new ManualClock(atHour(9));
  const engine = new Engine({ seed: 7 }, { clock });
  const events = [];
  engine.onEvent((e) => {
    if (e.type === 'learned') events.push(e);
  });
  engine.setRolloutConfig('q', { minEpisodes: 20, rollbackRegression: 0.2 });
  engine.loadModel('q', BAD);
  engine.setRollout('q', 'canary:0.5');
  assert.deepEqual(engine.rolloutStatus('q').mode, { mode: 'canary', weight: 0.5 });
  let rolledBackAfter = null;
  for (let round = 1; round <= 40; round++) {
    runJobs(engine, clock, 'q', 5);
    if (engine.rolloutStatus('q').mode.mode === 'off') {
      rolledBackAfter = round * 5;
      break;
    }
  }
  assert.ok(rolledBackAfter !== null, 'the bad canary was never rolled back');
  // As soon as both arms had their minimum episodes (about 2 x 20 jobs), not after running on.
  assert.ok(rolledBackAfter <= 80, `rolled back only after ${rolledBackAfter} jobs`);
  const status = engine.rolloutStatus('q');
  assert.equal(status.last_change, 'automatic rollback');
  assert.equal(engine.learnedStats().rollbacks, 1);
  // Off means off: the live tiers decide again.
  const rec = engine.onFailure(engine.begin('q'), { status: 503 });
  assert.notEqual(rec.tier, 'learned');
  return new Promise((resolve) => setImmediate(resolve)).then(() => {
    assert.deepEqual(
      events.map((e) => [e.change, e.to]),
      [['mode', 'canary:0.5'], ['rollback', 'off']],
    );
  });
});

test('promotion needs evidence; shadow changes no decision; manual rollback', () => {
  const clock = new ManualClock(atHour(9));
  const engine = new Engine({ seed: 3 }, { clock });
  engine.loadModel('q', BAD);
  engine.setRollout('q', 'shadow');
  assert.equal(code(() => engine.promoteRollout('q')), 'INVALID_STATE');
  const shadowed = runJobs(engine, clock, 'q', 40);
  // The shadow changed no decision: a twin engine without it gives the same delays.
  const twinClock = new ManualClock(atHour(9));
  const twin = new Engine({ seed: 3 }, { clock: twinClock });
  assert.deepEqual(shadowed, runJobs(twin, twinClock, 'q', 40));
  const s = engine.rolloutStatus('q');
  assert.deepEqual(s.mode, { mode: 'shadow' });
  assert.equal(s.evidence.shadow_diff.n, 40);
  assert.ok(s.evidence.shadow_diff.mean > 0, JSON.stringify(s));
  assert.equal(s.verdict, 'wait');
  // The bad model's schedule would cost more: still no promotion.
  const err = (() => {
    try {
      engine.promoteRollout('q');
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.equal(err?.code, 'INVALID_STATE');
  assert.match(err.message, /no evidence for promoting/);
  assert.equal(engine.learnedStats().shadow_episodes, 40);
  engine.rollbackRollout('q');
  assert.deepEqual(engine.rolloutStatus('q').mode, { mode: 'off' });
});

test('a shadowed window model is promoted to canary on its evidence', () => {
  // Jobs at 02:05 whose dependency is back at 02:20: the window model's 900 s beats the live
  // tiers' short retries, so the shadow evidence supports a canary.
  const clock = new ManualClock(atHour(2 + 5 / 60));
  const engine = new Engine({ seed: 5, classes: { unavailable: { max_delay: 3600 } } }, { clock });
  engine.loadModel('db', WINDOW);
  engine.setRolloutConfig('db', { minEpisodes: 5, canaryWeight: 0.5 });
  engine.setRollout('db', 'shadow');
  for (let day = 0; day < 6; day++) {
    clock.set(atHour(24 * (day + 1) + 2 + 5 / 60));
    const start = engine.now();
    const ep = engine.begin('db');
    for (;;) {
      if (engine.now() - start >= 900 && ep.attempts > 0) {
        engine.onSuccess(ep);
        break;
      }
      const rec = engine.onFailure(ep, { status: 503 });
      if (!rec.shouldRetry) break;
      clock.advance(rec.delay);
    }
  }
  const s = engine.rolloutStatus('db');
  assert.equal(s.verdict, 'promote', JSON.stringify(s));
  assert.equal(engine.promoteRollout('db'), 'canary:0.5');
  assert.equal(engine.rolloutStatus('db').last_change, 'operator promotion');
});

test('retry(), p-retry and cockatiel adapters pass a per-attempt context', async () => {
  const clock = new ManualClock(atHour(13));
  const engine = new Engine({ seed: 7, learning: { enabled: false } }, { clock });
  const file = path.join(tmp(), 'h.jsonl');
  engine.writeHistory(file);
  const sleep = (ms) => clock.advanceMs(ms);
  const fail = () => Object.assign(new Error('busy'), { status: 503 });

  // retry(): a function, called as each attempt starts.
  let n = 0;
  await retry(() => {
    if (++n < 3) throw fail();
    return 'ok';
  }, { engine, key: 'r', sleep, context: (attempt) => ({ queueDepth: 100 + attempt }) });
  // retry(): an object, and a first-attempt success still recorded with it.
  await retry(() => 'ok', { engine, key: 'r1', sleep, context: { queueDepth: 9 } });

  // p-retry's options (the call p-retry makes, without p-retry's own timers).
  const o = pRetryOptions(engine, { key: 'p', sleep, context: (a) => ({ queueDepth: 200 + a }) });
  const run = o.wrap(async (a) => {
    if (a < 2) throw fail();
    return 'ok';
  });
  await assert.rejects(run(1));
  await o.onFailedAttempt({ error: fail(), attemptNumber: 1, retriesLeft: 5 });
  assert.equal(await run(2), 'ok');

  // cockatiel's backoff (the calls cockatiel makes).
  const backoff = new EngineBackoff(engine, { key: 'c', sleep, context: (a) => ({ queueDepth: 300 + a }) });
  let onSuccess;
  backoff.attach({
    onSuccess: (l) => {
      onSuccess = l;
      return { dispose() {} };
    },
    onGiveUp: () => ({ dispose() {} }),
  });
  let b = backoff.next({ attempt: 1, result: { error: fail() } });
  b = b.next({ attempt: 2, result: { error: fail() } });
  onSuccess();

  engine.flushHistory();
  const depths = (key) => readHistory(file).filter((r) => r.queue === key).map((r) => r.queue_depth);
  assert.deepEqual(depths('r'), [101, 102, 103]);
  assert.deepEqual(depths('r1'), [9]);
  assert.deepEqual(depths('p'), [201, 202]);
  assert.deepEqual(depths('c'), [301, 302, 303]);
  // A bad per-attempt context is the engine's coded error, thrown to the caller.
  await assert.rejects(
    retry(() => 'ok', { engine, key: 'r', sleep, context: () => ({ queueDepth: -1 }) }),
    (e) => e.code === 'INVALID_CONFIG',
  );
});
