// The README's Node example: fetch with retries that read 429/503 and Retry-After, and learn.
import { retry, Engine } from '../../bindings-node/lib/index.mjs';

const engine = new Engine({ preset: 'request', classes: { unavailable: { max_delay: 0.05 } } });
let calls = 0;
const fakeFetch = async () => new Response('ok', { status: ++calls < 3 ? 503 : 200 });

const res = await retry((attempt) => fakeFetch(attempt), {
  engine,
  key: 'payments',
  signal: AbortSignal.timeout(10_000),
  onFailedAttempt: ({ recommendation: r }) => console.log(String(r)),
});
console.log(res.status, engine.stats().retries); // 200 2
