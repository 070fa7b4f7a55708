'use strict';
// RetrySchedule over the Rust schedule, on a SQLite file and on a real redis-server: claims with
// a lease, redelivery after it, ack, nack, and coded errors for bad input.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { RetrySchedule, SmartRetryError } = require('../lib/index.cjs');
const { manualEngine } = require('./helpers.cjs');
const { freePort, startRedis } = require('./redis.cjs');

const NOW = 1_700_000_000;

function tempDb(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartretry-schedule-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'retries.db');
}

function rules(schedule) {
  schedule.schedule('job-1', 'orders/1', NOW + 10);
  assert.deepEqual(schedule.claimDue(NOW, 10, 30), []);
  const [claim] = schedule.claimDue(NOW + 10, 10, 30);
  assert.equal(claim.jobId, 'job-1');
  assert.equal(claim.payload.toString(), 'orders/1');
  assert.equal(claim.deliveries, 1);
  assert.equal(claim.leaseUntil, NOW + 40);
  // Nobody else gets it while the lease runs; the lease over, it comes back (the worker died).
  assert.deepEqual(schedule.claimDue(NOW + 39, 10, 30), []);
  const [again] = schedule.claimDue(NOW + 40, 10, 30);
  assert.equal(again.deliveries, 2);
  assert.equal(schedule.nack('job-1', NOW + 500), true);
  assert.deepEqual(schedule.claimDue(NOW + 499, 10, 30), []);
  assert.equal(schedule.claimDue(NOW + 500, 10, 30).length, 1);
  assert.equal(schedule.ack('job-1'), true);
  assert.equal(schedule.ack('job-1'), false);
  assert.equal(schedule.nack('unknown', NOW), false);
  // The engine's recommendation: stored after its delay; a stop is not stored.
  const { engine } = manualEngine({ seed: 7, max_attempts: 2 });
  const ep = engine.begin('emails');
  const rec = engine.onFailure(ep, { status: 503 });
  assert.equal(schedule.scheduleRecommended('job-2', Buffer.from([0, 255]), engine.now(), rec), true);
  const stop = engine.onFailure(ep, { status: 503 });
  assert.equal(stop.shouldRetry, false);
  assert.equal(schedule.scheduleRecommended('job-3', 'x', engine.now(), stop), false);
  const [due] = schedule.claimDue(engine.now() + rec.delay, 10, 30);
  assert.deepEqual([...due.payload], [0, 255]);
  assert.equal(schedule.count(), 1);
}

test('RetrySchedule on a SQLite file', (t) => {
  rules(new RetrySchedule(tempDb(t)));
});

test('RetrySchedule on Redis', async (t) => {
  const { url } = await startRedis(t);
  rules(new RetrySchedule(url, { namespace: 'node' }));
});

test('RetrySchedule errors are coded', async (t) => {
  const q = new RetrySchedule(tempDb(t));
  const coded = (code) => (e) => e instanceof SmartRetryError && e.code === code;
  assert.throws(() => q.schedule('', 'x', NOW), coded('INVALID_ARGUMENT'));
  assert.throws(() => q.schedule('a', 'x', -1), coded('INVALID_ARGUMENT'));
  assert.throws(() => q.claimDue(NOW, 1, 0), coded('INVALID_ARGUMENT'));
  assert.throws(() => new RetrySchedule(''), coded('INVALID_ARGUMENT'));
  assert.throws(() => new RetrySchedule(path.join(tempDb(t), 'missing', 'x.db')), coded('SCHEDULE_STORAGE'));
  const dead = new RetrySchedule(`redis://127.0.0.1:${await freePort()}`);
  assert.throws(() => dead.claimDue(NOW, 1, 30), coded('SCHEDULE_STORAGE'));
});
