'use strict';
// The shared fixtures (tests/fixtures/*.json, format in tests/fixtures/README.md), run through
// the Node binding exactly as core/tests/fixtures.rs runs them through Rust: drift between the
// two fails here. The failure goes core JSON -> failureFromJson -> the object path onFailure
// takes, so the binding's translation is under test too.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Engine, ManualClock, SmartRetryError } = require('../lib/index.cjs');

const DIR = path.join(__dirname, '..', '..', 'tests', 'fixtures');
const CLOCK_START = 1_700_000_000;

function run(c) {
  const clock = new ManualClock(CLOCK_START);
  const engine = new Engine({ seed: 0x5eed }, { clock });
  const types = [];
  engine.onEvent((ev) => types.push(ev.type));
  const failure = engine.failureFromJson(JSON.stringify(c.failure), c.retry_after_header);
  const classification = engine.classify(failure);
  const episode = engine.begin(c.key ?? 'fixture', c.tenant ?? undefined);
  const rec = engine.onFailure(episode, failure);
  return { classification, failure, rec, types };
}

/** Every difference between what a case expects and what it got. */
async function check(c) {
  const e = c.expect;
  let out;
  try {
    out = run(c);
  } catch (err) {
    if (!(err instanceof SmartRetryError)) return [`untyped error ${err?.name}: ${err?.message}`];
    if (e.error === undefined) return [`unexpected error ${err.code}: ${err.message}`];
    return err.code === e.error ? [] : [`error: expected ${e.error}, got ${err.code}`];
  }
  if (e.error !== undefined) return [`expected error ${e.error}, got ${out.rec.action}`];
  // Events arrive on the event loop: one turn delivers what this case queued.
  await new Promise((r) => setImmediate(r));
  const bad = [];
  const same = (what, want, got) => {
    if (want !== undefined && want !== got) bad.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  same('class', e.class, out.classification.class);
  same('rule', e.rule, out.classification.rule);
  same('action', e.action, out.rec.action);
  same('tier', e.tier, out.rec.tier);
  same('retry_after', e.retry_after, out.failure.retryAfter);
  if (e.events !== undefined) same('events', e.events.join(','), out.types.join(','));
  if (e.delay !== undefined && !(out.rec.delay >= e.delay[0] && out.rec.delay <= e.delay[1])) {
    bad.push(`delay: expected ${e.delay[0]}..=${e.delay[1]}, got ${out.rec.delay}`);
  }
  return bad;
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('fixture files are present and case names unique', () => {
  assert.ok(files.length >= 3, `fixture files missing in ${DIR}`);
  const names = new Set();
  for (const f of files) {
    for (const c of JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))) {
      assert.ok(!names.has(c.name), `duplicate case ${c.name}`);
      names.add(c.name);
    }
  }
});

for (const file of files) {
  test(`fixtures: ${file}`, async () => {
    const cases = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
    assert.ok(cases.length > 0);
    const failures = [];
    for (const c of cases) {
      for (const problem of await check(c)) failures.push(`${c.name}: ${problem}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases differ`);
  });
}
