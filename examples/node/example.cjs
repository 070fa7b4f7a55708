// CommonJS: ask the engine directly what to do after a failure, and why.
const { Engine, ManualClock } = require('../../bindings-node/lib/index.cjs');

const clock = new ManualClock();
const engine = new Engine(null, { clock });
const episode = engine.begin('payments', 'acme');
const rec = engine.onFailure(episode, { status: 429, retryAfterHeader: '30' });
console.log(rec.action, rec.delay, rec.reason);
clock.advance(rec.delay);
engine.onSuccess(episode);
console.log(engine.preview('payments', { status: 503 }).map(String).join('\n'));
