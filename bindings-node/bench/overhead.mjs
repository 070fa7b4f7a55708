// Per-call overhead of smartretry's retry() against p-retry, cockatiel and async-retry, measured
// side by side in one process, paired and interleaved: (a) the call succeeds at once, (b) it
// fails once and the retry goes with zero wait. Each call is timed on its own; overhead = the
// library's percentile minus the bare call's at the same percentile.
//
// Zero waits come from each library's own options, nothing is patched: smartretry caps the
// failure's class (timeout) at max_delay 0, p-retry/async-retry minTimeout 0, cockatiel
// ConstantBackoff(0). smartretry runs with learning on (the default, system clock: models are
// built and plans rebuilt by the engine's background worker during the run); a second engine
// with learning off shows the binding's own overhead.
// Usage: node bench/overhead.mjs [--quick]
import os from 'node:os';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import pRetry from 'p-retry';
import { retry as ckRetry, handleAll, ConstantBackoff } from 'cockatiel';
import { Engine, retry } from '../lib/index.mjs';

const require = createRequire(import.meta.url);
const asyncRetry = require('async-retry');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7; // timed rounds after one warm-up round
const N = quick ? 5_000 : 40_000; // calls per case per round
const NT = quick ? 50 : 200; // libraries whose zero wait still sets a timer (~1 ms floor)

const ZERO_WAIT = { classes: { timeout: { max_delay: 0 } } };
const learning = new Engine(ZERO_WAIT);
const heuristic = new Engine({ ...ZERO_WAIT, learning: { enabled: false } });
const timeoutError = () => Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });

// The configuration, not a patch, makes the waits zero: check the engine asks for none.
for (let i = 0; i < 2000; i++) {
  const ep = learning.begin('zero-wait-check');
  const rec = learning.onFailure(ep, { code: 'ETIMEDOUT' });
  if (rec.delay !== 0) throw new Error(`the engine asked for a ${rec.delay} s wait`);
  learning.onSuccess(ep);
}

const ok = async () => 1;
function failsOnce() {
  let n = 0;
  return async () => {
    if (n++ === 0) throw timeoutError();
    return 1;
  };
}

async function timed(n, body) {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await body();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return out;
}

const cockatiel = ckRetry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) });

const success = {
  bare: [N, () => ok()],
  'smartretry retry(), learning on': [N, () => retry(ok, { engine: learning, key: 'bench' })],
  'smartretry retry(), learning off': [N, () => retry(ok, { engine: heuristic, key: 'bench' })],
  'p-retry, no options': [N, () => pRetry(ok)],
  'p-retry {retries: 1, minTimeout: 0}': [N, () => pRetry(ok, { retries: 1, minTimeout: 0 })],
  'cockatiel retry (ConstantBackoff 0)': [N, () => cockatiel.execute(ok)],
  'async-retry {retries: 1, minTimeout: 0}': [N, () => asyncRetry(ok, { retries: 1, minTimeout: 0 })],
};

const failOnce = {
  bare: [N, async () => {
    const f = failsOnce();
    try {
      return await f();
    } catch {
      return f();
    }
  }],
  'smartretry retry(), learning on': [N, () => retry(failsOnce(), { engine: learning, key: 'bench' })],
  'smartretry retry(), learning off': [N, () => retry(failsOnce(), { engine: heuristic, key: 'bench' })],
  'p-retry {retries: 1, minTimeout: 0}': [N, () => pRetry(failsOnce(), { retries: 1, minTimeout: 0 })],
  'cockatiel retry (ConstantBackoff 0)': [NT, () => cockatiel.execute(failsOnce())],
  'async-retry {retries: 1, minTimeout: 0}': [NT, () => asyncRetry(failsOnce(), { retries: 1, minTimeout: 0 })],
};

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function measure(cases) {
  const names = Object.keys(cases);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
    for (const name of order) {
      const [n, body] = cases[name];
      const xs = await timed(n, body);
      if (round > 0) samples[name].push(xs);
    }
  }
  const sortedAll = (name) => Float64Array.from(samples[name].flatMap((r) => Array.from(r))).sort();
  const bare = sortedAll('bare');
  const rows = [];
  for (const name of names) {
    const all = sortedAll(name);
    const over = [0.5, 0.99, 0.999].map((p) => pct(all, p) - (name === 'bare' ? 0 : pct(bare, p)));
    const perRound = samples[name].map((r, i) => {
      const b = Float64Array.from(samples.bare[i]).sort();
      return pct(Float64Array.from(r).sort(), 0.5) - (name === 'bare' ? 0 : pct(b, 0.5));
    });
    rows.push([name, over, Math.min(...perRound), Math.max(...perRound)]);
  }
  return rows;
}

function table(title, rows) {
  let out = `\n### ${title}\n\n| library | overhead p50 / p99 / p99.9 (µs) | spread of the rounds' p50 (µs) |\n| --- | ---: | ---: |\n`;
  for (const [name, [p50, p99, p999], lo, hi] of rows) {
    const label = name === 'bare' ? 'bare call (absolute time, not overhead)' : name;
    out += `| ${label} | ${p50.toFixed(2)} / ${p99.toFixed(2)} / ${p999.toFixed(2)} | ${lo.toFixed(2)}-${hi.toFixed(2)} |\n`;
  }
  return out;
}

const pkg = (name) => JSON.parse(fs.readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url))).version;
const s = await measure(success);
const f = await measure(failOnce);
const stats = learning.stats();
let md = `Command: \`cd bindings-node && npm run bench\` (node bench/overhead.mjs${quick ? ' --quick' : ''})\n\n`;
md += `Machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}; Node ${process.version}; load average ${os.loadavg()[0].toFixed(1)} at the end\n\n`;
md += `Libraries: p-retry ${pkg('p-retry')}, cockatiel ${pkg('cockatiel')}, async-retry ${pkg('async-retry')}. `;
md += `${ROUNDS} rounds after a warm-up round, libraries interleaved in a rotated order, ${N} calls per case per round (${NT} for the timer-bound rows). `;
md += `Learning on: ${stats.episodes} failure episodes learned from, ${stats.models} models, by the end of the run.\n`;
md += table('Success at once', s);
md += table('Fails once, then succeeds with zero wait', f);
console.log(md);
