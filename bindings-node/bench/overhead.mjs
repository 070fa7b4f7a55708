// Per-call overhead of smartretry's retry() against p-retry, cockatiel and async-retry, measured
// side by side in one process: (a) the call succeeds at once, (b) it fails once and the retry
// goes with zero wait. Overhead = time per call minus the bare call (await fn()).
// Usage: node bench/overhead.mjs [--quick]
import os from 'node:os';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import pRetry from 'p-retry';
import { retry as ckRetry, handleAll, ConstantBackoff } from 'cockatiel';
import { Engine, retry, pRetryOptions } from '../lib/index.mjs';

const require = createRequire(import.meta.url);
const asyncRetry = require('async-retry');

const quick = process.argv.includes('--quick');
const ROUNDS = 5;

// An engine whose first retry of a timeout goes at once (the default timeout policy does).
const engine = new Engine({ learning: { enabled: false } });
const timeoutError = () => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });

const ok = async () => 1;
function failsOnce() {
  let n = 0;
  return async () => {
    if (n++ === 0) throw timeoutError();
    return 1;
  };
}

async function time(n, body) {
  for (let i = 0; i < Math.min(n, 2000); i++) await body(); // warm-up
  const best = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await body();
    best.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  best.sort((a, b) => a - b);
  return best[Math.floor(ROUNDS / 2)]; // median, µs per call
}

const cockatielOnce = ckRetry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) });
const cockatielPlain = ckRetry(handleAll, { maxAttempts: 1 });

const N = quick ? 20_000 : 200_000;
const NT = quick ? 200 : 1_000; // libraries whose zero wait still sets a timer (~1 ms floor)

const success = {
  'bare call (await fn())': () => time(N, () => ok()),
  'smartretry retry()': () => time(N, () => retry(ok, { engine, key: 'bench' })),
  'p-retry, no options': () => time(N, () => pRetry(ok)),
  'p-retry, options {retries: 1, minTimeout: 0}': () => time(N, () => pRetry(ok, { retries: 1, minTimeout: 0 })),
  'p-retry + smartretry pRetryOptions': () => time(N, () => {
    const o = pRetryOptions(engine, { key: 'bench' });
    return pRetry(o.wrap(ok), o);
  }),
  'cockatiel retry (ConstantBackoff 0)': () => time(N, () => cockatielPlain.execute(ok)),
  'async-retry {retries: 1, minTimeout: 0}': () => time(N, () => asyncRetry(ok, { retries: 1, minTimeout: 0 })),
};

const failOnce = {
  'bare call, caught and called again': () => time(N, async () => {
    const f = failsOnce();
    try {
      return await f();
    } catch {
      return f();
    }
  }),
  'smartretry retry()': () => time(N, () => retry(failsOnce(), { engine, key: 'bench' })),
  'p-retry {retries: 1, minTimeout: 0}': () => time(N, () => pRetry(failsOnce(), { retries: 1, minTimeout: 0 })),
  'p-retry + smartretry pRetryOptions': () => time(N, () => {
    const o = pRetryOptions(engine, { key: 'bench' });
    return pRetry(o.wrap(failsOnce()), o);
  }),
  'cockatiel retry (ConstantBackoff 0)': () => time(NT, () => cockatielOnce.execute(failsOnce())),
  'async-retry {retries: 1, minTimeout: 0}': () => time(NT, () => asyncRetry(failsOnce(), { retries: 1, minTimeout: 0 })),
};

// The native hot path alone (synchronous calls).
const native = {
  'engine.begin + onSuccess': () => time(N, () => engine.onSuccess(engine.begin('bench'))),
  'engine.begin + onFailure(ETIMEDOUT) + onSuccess': () => time(N, () => {
    const ep = engine.begin('bench');
    engine.onFailure(ep, { code: 'ETIMEDOUT' });
    engine.onSuccess(ep);
  }),
  'engine.recommend (dry run)': (() => {
    const ep = engine.begin('bench');
    return () => time(N, () => engine.recommend(ep, { status: 503 }));
  })(),
};

async function table(title, cases, baselineKey) {
  const rows = [];
  for (const [name, run] of Object.entries(cases)) rows.push([name, await run()]);
  const base = baselineKey ? rows.find(([n]) => n === baselineKey)[1] : 0;
  let out = `\n### ${title}\n\n| library | µs per call | overhead µs |\n| --- | ---: | ---: |\n`;
  for (const [name, us] of rows) {
    out += `| ${name} | ${us.toFixed(3)} | ${baselineKey ? (us - base).toFixed(3) : '-'} |\n`;
  }
  return out;
}

const pkg = (name) => JSON.parse(fs.readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version;
let md = `Command: \`cd bindings-node && npm run bench\` (node bench/overhead.mjs${quick ? ' --quick' : ''})\n\n`;
md += `Machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}; Node ${process.version}\n\n`;
md += `Libraries: p-retry ${pkg('p-retry')}, cockatiel ${pkg('cockatiel')}, async-retry ${pkg('async-retry')}; median of ${ROUNDS} rounds of ${N} calls (${NT} for the timer-bound rows).\n`;
md += await table('Success at once', success, 'bare call (await fn())');
md += await table('Fails once, then succeeds with zero wait', failOnce, 'bare call, caught and called again');
md += await table('Native calls (synchronous)', native);
console.log(md);
