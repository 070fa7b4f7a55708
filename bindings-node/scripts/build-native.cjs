// npm `install` script: a checkout of the repository has no compiled addon, so
// `npm install ./bindings-node` builds it from the Rust sources (cargo, release profile) when the
// loader finds no binary. Published packages get their binary from the per-platform package and
// do not run this script.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

function loads() {
  try {
    require(path.join(root, 'index.js'));
    return true;
  } catch {
    return false;
  }
}

// napi-rs's platform suffix: linux-x64-gnu, darwin-arm64, win32-x64-msvc, ...
function platformSuffix() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  const report = process.report && process.report.getReport();
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return `${base}-${glibc ? 'gnu' : 'musl'}`;
}

if (loads()) process.exit(0);
// `npm ci` inside bindings-node itself (development): `npm run build` builds the addon with napi.
if (process.env.INIT_CWD && path.resolve(process.env.INIT_CWD) === path.resolve(root)) process.exit(0);
if (!fs.existsSync(path.join(root, 'Cargo.toml'))) {
  console.error(`smartretry: no prebuilt binary for ${platformSuffix()} and no Rust sources to build one`);
  process.exit(1);
}
console.error('smartretry: no compiled addon yet; building it with cargo (release, a few minutes the first time)');
const build = spawnSync(
  'cargo',
  ['build', '--release', '--lib', '-p', 'smartretry-node', '--message-format=json-render-diagnostics'],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 },
);
if (build.error) {
  console.error(`smartretry: cannot run cargo (${build.error.message}); install Rust from https://rustup.rs`);
  process.exit(1);
}
if (build.status !== 0) process.exit(build.status || 1);
let built;
for (const line of build.stdout.split('\n')) {
  if (!line.startsWith('{')) continue;
  const msg = JSON.parse(line);
  if (msg.reason === 'compiler-artifact' && msg.target.name === 'smartretry_node') {
    built = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || built;
  }
}
if (!built) {
  console.error('smartretry: cargo reported no smartretry_node library');
  process.exit(1);
}
const dest = path.join(root, `smartretry.${platformSuffix()}.node`);
fs.copyFileSync(built, dest);
if (!loads()) {
  console.error(`smartretry: built ${dest} but it does not load`);
  process.exit(1);
}
