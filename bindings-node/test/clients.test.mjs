// Real client errors classify right by default: fetch/undici against a closed port and a real
// server on 127.0.0.1, axios and got error shapes, AggregateError, cause chains.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { retry, Engine, ManualClock, failureFromError } from '../lib/index.mjs';

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function manual(policy = { preset: 'request', seed: 1 }) {
  const clock = new ManualClock();
  const engine = new Engine(policy, { clock });
  return { engine, clock, sleep: (ms) => clock.advanceMs(ms) };
}

test('retry(() => fetch(url)) on ECONNREFUSED retries as a connection failure', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/`;
  const { engine, sleep } = manual();
  const seen = [];
  await assert.rejects(
    retry(() => fetch(url), { engine, key: 'closed', sleep, onFailedAttempt: ({ recommendation }) => seen.push(recommendation) }),
    (e) => e instanceof TypeError && e.message === 'fetch failed',
  );
  assert.ok(seen.length > 1, `retried: ${seen.length} attempts`);
  assert.ok(seen.every((r) => r.class === 'connection'), seen.map((r) => r.class).join());
  assert.equal(seen.at(-1).action, 'give_up');
});

test('a real server on 127.0.0.1: 503 twice then 200', async (t) => {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    res.writeHead(calls < 3 ? 503 : 200).end(calls < 3 ? 'down' : 'ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { engine, sleep } = manual();
  const res = await retry(() => fetch(`http://127.0.0.1:${server.address().port}/`), { engine, key: 'srv', sleep });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
  assert.equal(calls, 3);
  assert.equal(engine.stats().successes_after_retry, 1);
});

test('a real fetch error carries its cause chain into the failure', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/`;
  const err = await fetch(url).catch((e) => e);
  const f = failureFromError(err);
  assert.equal(f.exception, 'TypeError');
  assert.ok(f.causes.some((c) => c.code === 'ECONNREFUSED'), JSON.stringify(f));
  const { engine } = manual();
  assert.equal(engine.classify(f).class, 'connection');
});

const axiosError = (code, status) => Object.assign(new Error(`axios ${code}`), {
  name: 'AxiosError', code, isAxiosError: true,
  ...(status ? { response: { status, headers: { 'retry-after': '2' } } } : {}),
});
const gotError = (name, code, statusCode) => Object.assign(new Error(`got ${code}`), {
  name, code, ...(statusCode ? { response: { statusCode, headers: {} } } : {}),
});

const shapes = [
  ['undici cause ECONNRESET', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }), 'connection'],
  ['undici cause UND_ERR_CONNECT_TIMEOUT', new TypeError('fetch failed', { cause: Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) }), 'timeout'],
  ['AggregateError of ECONNREFUSED', new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'all failed') }), 'connection'],
  ['axios ECONNABORTED', axiosError('ECONNABORTED'), 'connection'],
  ['axios ERR_NETWORK', axiosError('ERR_NETWORK'), 'connection'],
  ['axios ETIMEDOUT', axiosError('ETIMEDOUT'), 'timeout'],
  ['axios response 503', axiosError('ERR_BAD_RESPONSE', 503), 'unavailable'],
  ['axios response 429', axiosError('ERR_BAD_REQUEST', 429), 'rate_limited'],
  ['got RequestError ECONNREFUSED', gotError('RequestError', 'ECONNREFUSED'), 'connection'],
  ['got TimeoutError ETIMEDOUT', gotError('TimeoutError', 'ETIMEDOUT'), 'timeout'],
  ['got HTTPError 429', gotError('HTTPError', 'ERR_NON_2XX_3XX_RESPONSE', 429), 'rate_limited'],
  ['got HTTPError 404', gotError('HTTPError', 'ERR_NON_2XX_3XX_RESPONSE', 404), 'not_found'],
  ['gRPC ServiceError UNAVAILABLE', Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'down', metadata: {} }), 'unavailable'],
];

test('client-library errors classify right by default', () => {
  const { engine } = manual();
  const wrong = shapes
    .map(([name, err, want]) => [name, engine.classify(failureFromError(err)).class, want])
    .filter(([, got, want]) => got !== want);
  assert.deepEqual(wrong, []);
});

test('cause chains: cycles are cut, long chains kept to the core bound', () => {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(failureFromError(b).causes.length, 1);
  let e = Object.assign(new Error('root'), { code: 'ECONNRESET' });
  for (let i = 0; i < 40; i++) e = new Error(`wrap ${i}`, { cause: e });
  const f = failureFromError(e);
  assert.equal(f.causes.length, 16);
  const { engine } = manual();
  engine.classify(f); // accepted by the core
});

test('a thrown object with status 0 is still retried by its other signals', async () => {
  const { engine, sleep } = manual();
  let calls = 0;
  const value = await retry(() => {
    if (++calls < 2) throw Object.assign(new Error('network'), { status: 0, code: 'ECONNRESET' });
    return 'ok';
  }, { engine, sleep });
  assert.equal(value, 'ok');
});
