'use strict';
// Operator surfaces from Node: the attempt history, the admin endpoint through fetch on
// 127.0.0.1, and events as pino-compatible JSON lines.
const test = require('node:test');
const { scratchDir } = require('./helpers.cjs');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Engine, ManualClock, SmartRetryError, logEvents, registerPromClient } = require('../lib/index.cjs');

const TOKEN = 'node-test-token-0123456789';
// 2023-11-14 13:00:00 UTC, a Tuesday.
const TUESDAY_1PM = 1699966800;

function setup() {
  const clock = new ManualClock(TUESDAY_1PM);
  return { clock, engine: new Engine({ seed: 1 }, { clock }) };
}

function episode(engine, clock, key = 'payments') {
  const ep = engine.begin(key);
  engine.setMeta(ep, { jobType: 'invoice', payloadSize: 2048, downstreamLatency: 0.25 });
  const rec = engine.onFailure(ep, { status: 503 });
  clock.advance(rec.delay);
  engine.setMeta(ep, { jobType: 'invoice', payloadSize: 2048, downstreamLatency: 0.04 });
  engine.onSuccess(ep);
  return rec;
}

/** Events arrive through a ThreadsafeFunction that does not hold the event loop open. */
async function whileAlive(promise) {
  const alive = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(alive);
  }
}

function tmp() {
  return scratchDir('smartretry-node-');
}

test('the history carries the feature fields', () => {
  const { engine, clock } = setup();
  const file = path.join(tmp(), 'history.jsonl');
  engine.writeHistory(file, { workerVersion: 'node-2' });
  episode(engine, clock);
  engine.flushHistory();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((r) => r.attempt), [1, 2]);
  assert.equal(lines[0].hour_of_day, 13);
  assert.equal(lines[0].day_of_week, 1);
  assert.equal(lines[0].payload_size, 2048);
  assert.equal(lines[0].worker_version, 'node-2');
  assert.equal(lines[0].downstream_latency, 0.25);
  assert.equal(lines[1].downstream_latency, 0.04);
  assert.equal(lines[1].outcome, 'success');
});

test('the history rotates within its bound', () => {
  const { engine, clock } = setup();
  const file = path.join(tmp(), 'h.jsonl');
  engine.writeHistory(file, { maxBytes: 4096, maxFiles: 1 });
  for (let i = 0; i < 60; i++) episode(engine, clock);
  engine.stopHistory();
  assert.ok(fs.statSync(file).size <= 4096);
  assert.ok(fs.existsSync(`${file}.1`));
  assert.ok(!fs.existsSync(`${file}.2`));
});

test('bad history options and meta are coded errors', () => {
  const { engine } = setup();
  const dir = tmp();
  const code = (fn) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SmartRetryError, String(e));
      return e.code;
    }
    return 'no error';
  };
  assert.equal(code(() => engine.writeHistory(path.join(dir, 'h'), { maxBytes: 10 })), 'INVALID_CONFIG');
  assert.equal(code(() => engine.writeHistory(path.join(dir, 'h'), { rotate: true })), 'INVALID_ARGUMENT');
  assert.equal(code(() => engine.writeHistory(path.join(dir, 'no', 'h'))), 'IO');
  const ep = engine.begin('q');
  assert.equal(code(() => engine.setMeta(ep, { downstreamLatency: -1 })), 'INVALID_DURATION');
  assert.equal(code(() => engine.setMeta(ep, { payloadSize: 1.5 })), 'INVALID_ARGUMENT');
  assert.equal(code(() => engine.setMeta(ep, { workerVersion: 'a\nb' })), 'INVALID_KEY');
  assert.equal(code(() => engine.setMeta(ep, null)), 'INVALID_ARGUMENT');
});

test('the admin endpoint serves and steers over HTTP', async () => {
  const { engine, clock } = setup();
  const admin = engine.serveAdmin({ token: TOKEN });
  try {
    assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (let i = 0; i < 3; i++) episode(engine, clock);
    const stats = await (await fetch(`${admin.url}/stats`)).json();
    assert.equal(stats.episodes, 3);
    const recent = await (await fetch(`${admin.url}/decisions?limit=1`)).json();
    assert.equal(recent[0].key, 'payments');
    const metrics = await (await fetch(`${admin.url}/metrics`)).text();
    assert.match(metrics, /smartretry_episodes_total 3/);

    const body = JSON.stringify({ scope: 'queue', name: 'mail', patch: { fixed_delay: 9 } });
    const put = (headers) => fetch(`${admin.url}/overrides`, { method: 'PUT', body, headers });
    assert.equal((await put({})).status, 401);
    const ok = await put({ Authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    const rec = episode(engine, clock, 'mail');
    assert.equal(rec.delay, 9);
    assert.equal(rec.tier, 'operator');
    assert.equal(admin.recent(1)[0].recommendation.tier, 'operator');
    assert.equal(admin.metricsObject().decisions_by_tier.operator, 1);
    assert.match(admin.metrics(), /smartretry_decisions_total\{tier="operator"\} 1/);
  } finally {
    admin.stop();
  }
  assert.throws(() => admin.url, (e) => e.code === 'INVALID_STATE');
  assert.throws(() => engine.serveAdmin({ listen: '0.0.0.0:0' }), (e) => e.code === 'INVALID_CONFIG');
  assert.throws(() => engine.serveAdmin({ port: 80 }), (e) => e.code === 'INVALID_ARGUMENT');
});

test('events as pino-compatible JSON lines, in the observers schema', async () => {
  const { engine, clock } = setup();
  const lines = [];
  const done = new Promise((resolve) => {
    logEvents(engine, {
      write(line) {
        lines.push(JSON.parse(line));
        if (lines.length === 3) resolve();
      },
    }, { now: () => 1234 });
  });
  episode(engine, clock);
  await whileAlive(done);
  assert.deepEqual(lines.map((l) => l.msg), ['smartretry.attempt', 'smartretry.decision', 'smartretry.success']);
  assert.deepEqual(Object.keys(lines[1]).slice(0, 4), ['level', 'time', 'msg', 'type']);
  assert.equal(lines[1].level, 30);
  assert.equal(lines[1].time, 1234);
  assert.equal(lines[1].recommendation.action, 'retry');
});

test('events to a pino-style logger object', async () => {
  const { engine, clock } = setup();
  const seen = [];
  const done = new Promise((resolve) => {
    logEvents(engine, {
      warn(obj, msg) {
        seen.push([msg, obj.type]);
        if (obj.type === 'success') resolve();
      },
    }, { level: 'warn' });
  });
  episode(engine, clock);
  await whileAlive(done);
  assert.deepEqual(seen[0], ['smartretry.attempt', 'attempt']);
  assert.throws(() => logEvents(engine, {}, {}), (e) => e.code === 'INVALID_ARGUMENT');
});

test('prom-client: the endpoint\'s counters and gauges in its registry', async () => {
  const client = require('prom-client');
  const { engine, clock } = setup();
  const admin = engine.serveAdmin();
  try {
    const registry = new client.Registry();
    registerPromClient(admin, client, registry);
    for (let i = 0; i < 2; i++) episode(engine, clock);
    const text = await registry.metrics();
    assert.match(text, /# TYPE smartretry_decisions_total counter/);
    assert.match(text, /smartretry_decisions_total\{tier="heuristic"\} 2/);
    assert.match(text, /smartretry_model_drift\{key="payments",class="unavailable"\}/);
    episode(engine, clock);
    assert.match(await registry.metrics(), /smartretry_decisions_total\{tier="heuristic"\} 3/);
    assert.throws(() => registerPromClient(admin, {}), (e) => e.code === 'INVALID_ARGUMENT');
  } finally {
    admin.stop();
  }
});
