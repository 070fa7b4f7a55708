// The native calls of a fail-once retry, without retry()'s JS: begin, one plain failure (the
// delay-only call) and success, with the episode as an `Episode` object and as a handle, and a
// first-attempt success (`succeed`); as methods of the native Engine, and as the free functions
// taking the engine's number that retry() uses. Each iteration is timed on its own (hrtime's own cost, about
// 0.05 µs, is included); learning on (the default engine) and off.
// Usage: node bench/native-calls.mjs [--quick]
import os from 'node:os';
import { createRequire } from 'node:module';
import { Engine } from '../lib/index.mjs';

const native = createRequire(import.meta.url)('../index.js');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const N = quick ? 20_000 : 100_000;
const ZERO_WAIT = { classes: { timeout: { max_delay: 0 } } };

function cases(engine) {
  const nat = engine.native;
  const id = engine.id;
  const keyNumber = native.engineKeyNumber(id, 'bench');
  // Handles are the caller's numbers (as lib/engine.cjs names them), never reused.
  let handle = 1e9;
  return {
    'succeed (first-attempt success), method': () => nat.succeed('bench', undefined, undefined),
    'succeed, by the engine\'s number': () => native.engineSucceed(id, 'bench', undefined, undefined),
    'succeed, by the engine\'s and the key\'s numbers (retry()\'s call)': () => native.engineSucceedKey(id, keyNumber),
    'fail once, Episode object': () => {
      const ep = nat.begin('bench', undefined, undefined);
      nat.onPlainFailureDelayMs(ep, undefined, 'ETIMEDOUT', undefined, 'timed out', undefined);
      nat.onSuccess(ep, undefined);
    },
    'fail once, handle, methods': () => {
      const h = ++handle;
      nat.beginHandle(h, 'bench', undefined, undefined);
      nat.onPlainFailureDelayMsHandle(h, undefined, 'ETIMEDOUT', undefined, 'timed out', undefined);
      nat.onSuccessHandle(h, undefined);
    },
    'fail once, handle, by the engine\'s and the key\'s numbers (three calls)': () => {
      const h = ++handle;
      native.engineBeginHandleKey(id, h, keyNumber);
      native.enginePlainFailureDelayMsHandle(id, h, undefined, 'ETIMEDOUT', undefined, 'timed out', undefined);
      native.engineOnSuccessHandle(id, h, undefined);
    },
    'fail once, the first failure opens the handle (retry()\'s two calls)': () => {
      const h = ++handle;
      native.enginePlainFailureDelayMsHandle(id, h, undefined, 'ETIMEDOUT', undefined, 'timed out', undefined, keyNumber);
      native.engineOnSuccessHandle(id, h, undefined);
    },
  };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
let md = `Command: \`node bench/native-calls.mjs${quick ? ' --quick' : ''}\`; ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores; Node ${process.version}\n\n`;
md += '| engine | calls | p50 / p99 / p99.9 (µs) |\n| --- | --- | ---: |\n';
for (const [label, engine] of [
  ['learning on', new Engine(ZERO_WAIT)],
  ['learning off', new Engine({ ...ZERO_WAIT, learning: { enabled: false } })],
]) {
  const all = cases(engine);
  const samples = Object.fromEntries(Object.keys(all).map((k) => [k, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, body] of Object.entries(all)) {
      const xs = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const t0 = process.hrtime.bigint();
        body();
        xs[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      if (round > 0) samples[name].push(...xs); // round 0 warms up
    }
  }
  for (const [name, xs] of Object.entries(samples)) {
    const s = Float64Array.from(xs).sort();
    md += `| ${label} | ${name} | ${[0.5, 0.99, 0.999].map((p) => pct(s, p).toFixed(2)).join(' / ')} |\n`;
  }
}
md += `\nLoad average ${os.loadavg()[0].toFixed(1)} at the end.\n`;
console.log(md);
