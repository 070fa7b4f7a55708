'use strict';
// smartretry/bullmq against a real BullMQ Worker on a real redis-server: the engine picks each
// retry's delay and the give-up, and hears every outcome. The engine runs on a ManualClock
// (delays of 0 for BullMQ), so jobs are awaited through worker events, never timed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue, Worker, UnrecoverableError } = require('bullmq');
const { bullmqRetry } = require('../lib/bullmq.cjs');
const { manualEngine } = require('./helpers.cjs');
const { startRedis } = require('./redis.cjs');

const JOB_TIMEOUT_MS = 60000;

function refused(message) {
  return Object.assign(new Error(message), { code: 'ECONNREFUSED' });
}

/** Resolve with each job's final state ('completed' or 'failed') and value, by job id. */
function outcomes(worker) {
  const waiting = new Map();
  const settle = (job, state, value) => {
    const w = waiting.get(job.id);
    if (w) {
      waiting.delete(job.id);
      w({ state, value, attemptsMade: job.attemptsMade });
    }
  };
  worker.on('completed', (job, value) => settle(job, 'completed', value));
  worker.on('failed', (job, err) => {
    if (job && typeof job.finishedOn === 'number') settle(job, 'failed', err);
  });
  return (job) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${job.id} did not finish`)), JOB_TIMEOUT_MS);
    waiting.set(job.id, (r) => { clearTimeout(timer); resolve(r); });
  });
}

test('BullMQ retries on the engine\'s delays, gives up when it says stop, and feeds outcomes back', async (t) => {
  const { port } = await startRedis(t);
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const { engine, clock } = manualEngine();
  const sr = bullmqRetry(engine, { key: 'emails' });
  const tries = new Map();
  const queue = new Queue('emails', { connection });
  const worker = new Worker('emails', async (job) => {
    const n = (tries.get(job.data.name) ?? 0) + 1;
    tries.set(job.data.name, n);
    if (job.data.kind === 'unrecoverable') throw new UnrecoverableError('bad address');
    if (n <= job.data.failures) throw refused(`${job.data.name}: attempt ${n}`);
    return { attempts: n };
  }, { connection, settings: sr.settings });
  t.after(async () => { await worker.close(); await queue.close(); });
  sr.attach(worker);
  const finished = outcomes(worker);
  const run = async (data) => {
    const job = await queue.add('send', data, sr.jobOptions);
    return finished(job);
  };

  // Two refused connections, then success: one episode, two engine-scheduled retries.
  let before = engine.stats();
  const t0 = clock.now();
  let r = await run({ name: 'a', failures: 2 });
  assert.equal(r.state, 'completed');
  assert.deepEqual(r.value, { attempts: 3 });
  let after = engine.stats();
  assert.equal(after.failures - before.failures, 2);
  assert.equal(after.retries - before.retries, 2);
  assert.equal(after.successes - before.successes, 1);
  assert.ok(clock.now() > t0, 'the engine\'s delays moved its manual clock');
  assert.equal(sr.openEpisodes, 0);

  // Always refused: the policy allows 4 connection attempts, then the strategy answers -1.
  before = engine.stats();
  r = await run({ name: 'b', failures: 1000 });
  assert.equal(r.state, 'failed');
  assert.equal(tries.get('b'), 4);
  after = engine.stats();
  assert.equal(after.give_ups - before.give_ups, 1);
  assert.equal(after.retries - before.retries, 3);
  assert.equal(sr.openEpisodes, 0);

  // BullMQ fails an UnrecoverableError itself: no retry, nothing given up by the engine.
  before = engine.stats();
  r = await run({ name: 'c', kind: 'unrecoverable', failures: 0 });
  assert.equal(r.state, 'failed');
  assert.equal(tries.get('c'), 1);
  after = engine.stats();
  assert.equal(after.retries, before.retries);
  assert.equal(after.give_ups, before.give_ups);
  assert.equal(sr.openEpisodes, 0);

  // A first-try success is recorded too.
  before = engine.stats();
  r = await run({ name: 'd', failures: 0 });
  assert.equal(r.state, 'completed');
  after = engine.stats();
  assert.equal(after.successes - before.successes, 1);
  assert.equal(after.retries, before.retries);
});

test('bullmqRetry refuses options that are not an object', () => {
  const { engine } = manualEngine();
  assert.throws(() => bullmqRetry(engine, 'emails'), { code: 'INVALID_ARGUMENT' });
});
