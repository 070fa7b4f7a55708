'use strict';
// A real redis-server on an ephemeral port for the tests that need one (FleetStore, BullMQ, the
// schedule); scripts/test-node.sh installs redis-server when it is missing.

const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

/** Start redis-server for test `t` (killed when it ends); resolves to its port and URL. */
async function startRedis(t) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartretry-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' });
  t.after(() => { proc.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); });
  // Readiness: poll until the port accepts (a process starting, not a timer).
  const deadline = Date.now() + 20000;
  while (!(await accepts(port))) {
    assert.ok(Date.now() < deadline, 'redis-server did not start');
    await new Promise((r) => setImmediate(r));
  }
  return { port, url: `redis://127.0.0.1:${port}` };
}

module.exports = { freePort, startRedis };
