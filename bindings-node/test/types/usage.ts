// Compiled by `tsc --noEmit --strict` in scripts/test-node.sh: the published types must accept
// the documented usage and reject what the engine would refuse. Lines marked @ts-expect-error
// fail the check if they ever type-check.
import { Engine, GiveUpError, ManualClock, retry, SmartRetryError } from 'smartretry';
import type { Policy, Recommendation } from 'smartretry';
import type { Policy as PolicyFromSubpath } from 'smartretry/policy';

const policy: Policy = {
  preset: 'request',
  learning: { failure_cost: 1.5 },
  classes: { unavailable: { max_attempts: 4 } },
};
const sameShape: PolicyFromSubpath = policy;

const engine = new Engine([sameShape, { max_attempts: 6 }], { clock: new ManualClock() });
const episode = engine.begin('payments', 'acme', { maxAttempts: 3 });
const rec: Recommendation = engine.onFailure(episode, { status: 503 });
const delayMs: number = engine.onFailureDelayMs(episode, { status: 503 });
const wait: number = engine.acquire('payments');
const within: number | null = engine.acquireWithin('payments', 0.5);
void [rec, delayMs, wait, within];

async function charge(): Promise<string> {
  try {
    return await retry(async (attempt) => `charged on attempt ${attempt}`, {
      engine,
      key: 'payments',
      retries: 3,
      maxRetryTime: 10_000,
      isFailure: (value) => value.length === 0,
    });
  } catch (error) {
    if (error instanceof GiveUpError) return error.recommendation.toString();
    if (error instanceof SmartRetryError) return error.code;
    throw error;
  }
}
void charge;

// @ts-expect-error: a policy field that does not exist
const misspelt: Policy = { learnin: {} };
// @ts-expect-error: presets are named, not free text
const unknownPreset: Policy = { preset: 'fast' };
void [misspelt, unknownPreset];

// BullMQ: the strategy and listeners fit BullMQ's own types.
import { Queue, Worker } from 'bullmq';
import { bullmqRetry as bullmqFromSubpath } from 'smartretry/bullmq';
import { bullmqRetry, RetrySchedule } from 'smartretry';

async function bullmqUsage(engine: Engine): Promise<void> {
  const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
  const sr = bullmqRetry(engine, { key: (job) => job.queueName });
  const worker = new Worker('emails', async () => 'sent', { connection, settings: sr.settings });
  const detach = sr.attach(worker);
  await new Queue('emails', { connection }).add('send', {}, sr.jobOptions);
  detach();
  void bullmqFromSubpath;
}
void bullmqUsage;

function scheduleUsage(engine: Engine): number {
  const schedule = new RetrySchedule('/tmp/retries.db');
  schedule.schedule('job-1', 'orders/1', engine.now() + 40);
  for (const claim of schedule.claimDue(engine.now(), 16, 60)) {
    if (claim.payload.length > 0) schedule.ack(claim.jobId);
    else schedule.nack(claim.jobId, engine.now() + 60);
  }
  return schedule.count();
}
void scheduleUsage;

// The learned tier: a context on begin (both forms) and per attempt, models and rollouts.
const withContext = engine.begin('reports', { tenant: 'acme', context: { queueDepth: 420, downstreamLatency: 0.85 } });
withContext.setContext({ queueDepth: 380, workerVersion: 'worker-2.3' });
engine.begin('reports', null, null, { payloadSize: 65536 });
const features: number = engine.loadModel('reports', 'reports.srm').features;
engine.setRollout('reports', 'canary:0.2');
engine.setRolloutConfig('reports', { minEpisodes: 50, autoPromote: true });
const next: string = engine.promoteRollout('reports');
const verdict: 'wait' | 'promote' | 'rollback' | undefined = engine.rolloutStatus('reports')?.verdict;
const rollbacks: number = engine.learnedStats().rollbacks;
void retry(async () => 'ok', { engine, context: (attempt) => ({ queueDepth: attempt }) });
void [features, next, verdict, rollbacks];
// @ts-expect-error: not a rollout mode
engine.setRollout('reports', 'half');
// @ts-expect-error: a context field that does not exist
engine.begin('reports', { context: { queueDepht: 3 } });
