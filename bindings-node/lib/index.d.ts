// Types of the smartretry JS layer. The native classes' types are generated in ../index.d.ts.
import type {
  Episode, Recommendation, FailureInput, Classification, FleetOptions, FleetStats, AttemptContext,
} from '../index.js';
import { ManualClock as NativeManualClock } from '../index.js';

export { Episode, Recommendation, FailureInput, Classification, FleetOptions, FleetStats, AttemptContext };
export type { Policy } from './policy'; // every policy field, generated from schema/policy.schema.json
/** A clock that moves only when advanced (tests, simulations); errors carry codes. */
export declare class ManualClock extends NativeManualClock {}
export declare function version(): string;

/** Where a retry lives: `request` (sub-second backoff, 30 s deadline) or `background` (queued jobs). */
export type Preset = 'request' | 'background';
/** Shortcuts the engine accepts beside the policy's own fields (read before the policy is parsed). */
export interface PolicyShortcuts {
  /** `max_attempts` of every class that retries (a class's own value wins). */
  max_attempts?: number;
  /** `learning.failure_cost`: the price of one failed attempt, in seconds. */
  failure_cost?: number | null;
}
/**
 * A partial policy over a preset (durations in seconds), as an object or JSON text, e.g.
 * `{ preset: 'request', deadline: 10 }`. No policy: the `background` preset. A typed `Policy`
 * gets completion and checking; a plain record is accepted too and checked by the engine, whose
 * errors name the field's path.
 */
export type PolicyInput =
  | (import('./policy').Policy & PolicyShortcuts)
  | (PolicyShortcuts & { preset?: Preset | null; deadline?: number | null } & Record<string, unknown>)
  | string | null | undefined;

export type ErrorClassName = 'timeout' | 'connection' | 'rate_limited' | 'unavailable' | 'server_error'
  | 'client_error' | 'auth' | 'not_found' | 'validation' | 'conflict' | 'needs_human' | 'cancelled' | 'unknown';

/** The core's stats schema (docs/naming.md): the same keys in every language. */
export interface Stats {
  episodes: number; failures: number; successes: number; successes_after_retry: number;
  first_retry_successes: number; retries: number; give_ups: number; escalations: number;
  guardrail_clamps: number; budget_denials: number; breaker_delays: number;
  decisions_heuristic: number; decisions_bayesian: number; decisions_operator: number;
  decisions_guardrail: number; fallbacks: number; models: number;
}

/** The core's event schema (docs/naming.md): a `type` tag, snake_case keys, seconds. */
export type EngineEvent =
  | { type: 'attempt'; key: string; tenant: string | null; class: ErrorClassName; attempt: number; elapsed: number }
  | { type: 'decision' | 'exhausted'; key: string; tenant: string | null; class: ErrorClassName; attempt: number; elapsed: number; recommendation: Record<string, unknown> }
  | { type: 'success'; key: string; tenant: string | null; attempt: number; elapsed: number }
  | { type: 'breaker'; dependency: string; from: 'closed' | 'open' | 'half_open'; to: 'closed' | 'open' | 'half_open' }
  | { type: 'clamp'; key: string; clamp: { guardrail: string; from: number; to: number } };
export type Scope = { queue: string } | { tenant: string };

/** The learned tier's context of an attempt: an object, or a function of the attempt number (1-based). */
export type ContextOption = AttemptContext | ((attempt: number) => AttemptContext | null | undefined);
/** `off`, `shadow`, `canary:WEIGHT` (`canary`: 10%) or `full`. */
export type RolloutModeName = 'off' | 'shadow' | 'full' | 'canary' | `canary:${number}`;
/** When evidence is enough and how much regression rolls back (missing fields: the defaults). */
export interface RolloutConfig {
  /** Episodes on each side before a promotion or rollback (default 30, at least 2). */
  minEpisodes?: number;
  /** Confidence of the bounds as one look's standard errors (default 1.64: 95%); held at every look, so about 3 standard errors in effect. */
  z?: number;
  /** Roll back when the learned mean J exceeds the live one by more than this share (default 0.1). */
  rollbackRegression?: number;
  /** Step up on evidence by itself (default false). */
  autoPromote?: boolean;
  /** The weight an automatic promotion from shadow starts the canary with (default 0.2). */
  canaryWeight?: number;
  /** Roll a canary back once its learned arm ran this many episodes without a verdict, at the first look where it is not ahead (default 500; 0: never). */
  canaryMaxEpisodes?: number;
  /** In full, the share of episodes kept on the live tiers, which full is held to (default 0.02; 0: the live mean at promotion). */
  fullHoldout?: number;
}
/** Running mean and variance of J per episode (or of paired differences). */
export interface Tally { n: number; mean: number; m2: number }
/** A queue's rollout, in the core's JSON (snake_case keys; as the admin endpoint's `/rollouts`). */
export interface RolloutStatus {
  queue: string;
  mode: { mode: 'off' | 'shadow' | 'full' } | { mode: 'canary'; weight: number };
  model_loaded: boolean;
  evidence: { live: Tally; learned: Tally; shadow_diff: Tally; baseline: number | null };
  verdict: 'wait' | 'promote' | 'rollback';
  /** Why the mode last changed: 'operator', 'operator promotion', 'automatic promotion', 'automatic rollback', ... */
  last_change: string;
}
/** The learned tier's counters (engine-wide, cumulative). */
export interface LearnedStats { decisions: number; shadow_episodes: number; fallbacks: number; rollbacks: number; promotions: number }
/** What a model file says (the core's field names). */
export interface ModelInfo {
  /** 'boosted': the logistic model plus trees on its margin (`smartretry train --algo`). */
  kind: 'logistic' | 'boosted';
  /** Number of boosted trees (0 for a logistic model). */
  trees: number;
  /** Number of features (weights). */
  features: number;
  feature_names: string[];
  tenants: string[];
  workers: string[];
  /** The shortest wait the model proposes, seconds. */
  min_wait: number;
  training: { trained_at: number; history: string; rows: number; queues: string[]; l2: number; trainer: string };
  metrics: {
    folds: number; cv_brier: number; cv_log_loss: number; cv_auc: number;
    holdout_brier: number; holdout_log_loss: number; holdout_auc: number;
    holdout_j_learned: number; holdout_j_baseline: number; holdout_episodes: number;
  };
}

export declare class Engine {
  /** An array of policies is layers merged deeply, the later winning. */
  constructor(policy?: PolicyInput | PolicyInput[], options?: { clock?: ManualClock });
  readonly native: unknown;
  /** The engine's number for the native hot-path functions (`engineSucceed`, ...). */
  readonly id: number;
  now(): number;
  /**
   * `limits` replace the policy's attempt cap and deadline (seconds from the first failure) for
   * this episode; `context` is the learned tier's attempt context (also in the history).
   */
  begin(key: string, tenant?: string | null, limits?: { maxAttempts?: number; deadline?: number } | null, context?: AttemptContext | null): Episode;
  begin(key: string, options: { tenant?: string | null; maxAttempts?: number; deadline?: number; context?: AttemptContext | null }): Episode;
  /** Replace the episode's attempt context (as `episode.setContext`). */
  setContext(episode: Episode, context: AttemptContext): void;
  onFailure(episode: Episode, failure: FailureInput): Recommendation;
  /** `onFailure` answering only the delay in ms, or -1 to stop (then `episode.takeStopRecommendation()` has the recommendation). */
  onFailureDelayMs(episode: Episode | number, failure: FailureInput): number;
  /**
   * Episodes as handles (numbers: no object to create), `retry()`'s hot path: `beginHandle`,
   * then `onFailureDelayMs(handle, ...)`, closed by `onSuccessHandle`, `abandonHandle` or
   * `takeEpisode` (which answers the Episode object). A closed handle is INVALID_STATE.
   */
  beginHandle(key: string, tenant?: string | null, limits?: { maxAttempts?: number; deadline?: number } | null, context?: AttemptContext | null): number;
  onSuccessHandle(handle: number, dependency?: string | null): void;
  abandonHandle(handle: number): boolean;
  setContextHandle(handle: number, context: AttemptContext): void;
  takeEpisode(handle: number): Episode;
  /** Handles open now. */
  readonly openHandles: number;
  onHttpFailure(episode: Episode, status: number, retryAfter?: string | null, dependency?: string | null): Recommendation;
  onClassFailure(episode: Episode, errorClass: string): Recommendation;
  recommend(episode: Episode, failure: FailureInput): Recommendation;
  /** A failure from the core's JSON form (snake_case keys), Retry-After header parsed on the engine clock. */
  failureFromJson(json: string | Record<string, unknown>, retryAfterHeader?: string | null): FailureInput;
  record(episode: Episode, failure: FailureInput): Classification;
  onSuccess(episode: Episode, dependency?: string | null): void;
  abandon(episode: Episode): void;
  succeed(key: string, tenant?: string | null, dependency?: string | null): void;
  /** The adaptive rate limiter's token for a call on `key` (policy `rate_limit`): seconds to wait before it, 0 until the key is throttled. Call before every attempt; the token is taken either way. */
  acquire(key: string, dependency?: string | null): number;
  /** `acquire` in milliseconds. */
  acquireMs(key: string, dependency?: string | null): number;
  /**
   * `acquireMs` before an attempt, skipped (0) while the policy has no rate limiting, as
   * `retry()` and the adapters take it; a key is checked by the native side the first time.
   */
  tokenMs(key: string, dependency?: string | null): number;
  /** Whether the policy has adaptive rate limiting, as last told by the native side. */
  readonly limiting: boolean;
  /** `acquire` for a call that waits at most `maxWait` seconds: null, taking no token, beyond it. */
  acquireWithin(key: string, maxWait: number, dependency?: string | null): number | null;
  classify(failure: FailureInput): Classification;
  preview(key: string, failure: FailureInput, options?: { tenant?: string; steps?: number }): Recommendation[];
  recoveryCurve(key: string, errorClass: string, tenant?: string | null): number[][] | null;
  policy(): Record<string, unknown>;
  setPolicy(policy: PolicyInput): void;
  setOverride(scope: Scope, patch: Record<string, unknown> | string, errorClass?: string | null): void;
  clearOverride(scope: Scope, errorClass?: string | null): void;
  overrides(): Array<{ scope: 'queue' | 'tenant'; name: string; class: string | null; patch: Record<string, unknown> }>;
  snapshot(): Buffer;
  restore(snapshot: Buffer): void;
  merge(snapshot: Buffer): void;
  saveSnapshot(path: string): void;
  loadSnapshot(path: string): void;
  mergeSnapshot(path: string): void;
  stats(): Stats;
  resetStats(): void;
  /** Events are delivered on the event loop; a throwing listener is caught and counted. Returns a remover. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
  addObserver(listener: (event: EngineEvent) => void): () => void;
  clearObservers(): void;
  /** Events dropped because 10,000 were already waiting for the JS thread. */
  readonly droppedEvents: number;
  /** Exceptions thrown by listeners (caught; one process warning per engine). */
  readonly observerErrors: number;
  breakerState(dependency: string): 'closed' | 'open' | 'half_open';
  recordDependency(dependency: string, ok: boolean): 'closed' | 'open' | 'half_open';
  /** Log every attempt as JSON Lines (rotated at maxBytes, maxFiles older files kept). */
  writeHistory(path: string, options?: { maxBytes?: number; maxFiles?: number; workerVersion?: string }): void;
  flushHistory(): void;
  stopHistory(): void;
  /** Facts logged with the episode's later attempts (downstreamLatency in seconds). */
  setMeta(episode: Episode, meta: { jobType?: string; payloadSize?: number; workerVersion?: string; downstreamLatency?: number }): void;
  /** Load a learned model (`.srm`) for `queue`; INVALID_MODEL or IO leave its model as it was. */
  loadModel(queue: string, path: string): ModelInfo;
  unloadModel(queue: string): void;
  /** A mode other than 'off' needs a model loaded (INVALID_STATE); a bad mode is INVALID_CONFIG. */
  setRollout(queue: string, mode: RolloutModeName): void;
  /** One step up on evidence (shadow → canary → full): the new mode, or INVALID_STATE. */
  promoteRollout(queue: string): string;
  rollbackRollout(queue: string): void;
  setRolloutConfig(queue: string, config: RolloutConfig): void;
  rolloutStatus(queue: string): RolloutStatus | null;
  rollouts(): RolloutStatus[];
  learnedStats(): LearnedStats;
  /** The admin endpoint on a loopback address or `unix:/path`; writes need `token`. */
  serveAdmin(options?: { listen?: string; token?: string; recent?: number }): Admin;
}

/** A running admin endpoint: `/stats`, `/models`, `/decisions`, `/overrides`, `/metrics`. */
export declare class Admin {
  readonly url: string;
  metrics(): string;
  metricsObject(): Record<string, unknown>;
  recent(limit?: number): Array<{ time: number; key: string; tenant: string | null; recommendation: Record<string, unknown> }>;
  stop(): void;
}

/** Register the endpoint's counters and gauges in a prom-client registry (default: the global one). */
export declare function registerPromClient(admin: Admin, client: unknown, registry?: unknown): void;

/** Every engine event to a pino logger, or as pino-compatible JSON lines to a stream (default stdout). */
export declare function logEvents(
  engine: Engine,
  target?: { write(line: string): unknown } | { info(obj: object, msg: string): unknown },
  options?: { level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; now?: () => number },
): () => void;
/** The engine of `retry()` and the adapters when none is given: system clock, `request` preset. */
export declare function getDefaultEngine(): Engine;

/** An engine error; `code` is the engine's stable code (INVALID_KEY, INVALID_STATE, ...). */
export declare class SmartRetryError extends Error {
  readonly code: string;
}
/** Throw it from the retried function to stop at once; retry rejects with `originalError`. */
export declare class AbortError extends Error {
  constructor(messageOrError?: string | Error);
  readonly originalError: Error;
}
/** The engine stopped on a failed value (not an error), or on an error with `wrapError: true` (then `cause`). */
export declare class GiveUpError extends Error {
  readonly code: 'GIVE_UP' | 'ESCALATE';
  readonly recommendation: Recommendation;
  readonly value: unknown;
}

export interface FailedAttempt<T> {
  error?: unknown;
  value?: T;
  attempt: number;
  recommendation: Recommendation;
  episode: Episode;
}
export interface RetryOptions<T> {
  engine?: Engine;
  /** Queue or job type the engine learns for (default "default"). */
  key?: string;
  tenant?: string;
  /** The dependency called (circuit breakers are per dependency; default the key). */
  dependency?: string;
  /** Cancels the wait at once; retry rejects with `signal.reason`. */
  signal?: AbortSignal;
  onFailedAttempt?(attempt: FailedAttempt<T>): void | Promise<void>;
  /** Translate a thrown value into what the engine reads (default: failureFromError). */
  failure?(error: unknown): FailureInput;
  /** Count a resolved value as a failure (default: a fetch Response that is not ok). */
  isFailure?(value: T): boolean;
  /** Retries after the first attempt for this call (p-retry's name; Infinity: the policy's cap). */
  retries?: number;
  /** Milliseconds from the first failure past which no retry is scheduled (p-retry's name). */
  maxRetryTime?: number;
  /** On give-up, reject with a GiveUpError (message: the engine's reason; `cause`: the error) instead of the error itself. */
  wrapError?: boolean;
  /** Replace the wait (tests with a ManualClock). */
  sleep?(ms: number, signal?: AbortSignal): void | Promise<void>;
  /** The learned tier's attempt context: an object, or a function called as each attempt starts. */
  context?: ContextOption;
}
export declare function retry<T>(
  fn: (attempt: number, context: { signal?: AbortSignal; episode: Episode | null }) => T | PromiseLike<T>,
  options?: RetryOptions<T>,
): Promise<T>;
export declare function retryBatch<I, T>(
  items: Iterable<I>,
  fn: (item: I, attempt: number, index: number, context: { signal?: AbortSignal; episode: Episode | null }) => T | PromiseLike<T>,
  options?: RetryOptions<T>,
): Promise<Array<PromiseSettledResult<T>>>;
export declare function sleep(ms: number, signal?: AbortSignal): Promise<void>;
export declare function failureFromError(error: unknown): FailureInput;
export declare function isResponse(value: unknown): value is Response;

export interface AdapterOptions {
  key?: string;
  tenant?: string;
  dependency?: string;
  failure?(error: unknown): FailureInput;
  /** The learned tier's attempt context: an object, or a function of the attempt number. */
  context?: ContextOption;
  /** How to wait for a rate limiter token (default: an abortable setTimeout). */
  sleep?(ms: number, signal?: AbortSignal): void | Promise<void>;
}
/** cockatiel IBackoffFactory whose durations come from the engine. */
export declare class EngineBackoff {
  constructor(engine?: Engine, options?: AdapterOptions);
  next(context: { attempt: number; result: { error: unknown } | { value: unknown } }): { duration: number; next(context: unknown): unknown };
  /** `p.execute(backoff.rateLimited(fn))`: the adaptive rate limiter's token before every attempt. */
  rateLimited<T>(fn: (context: { signal?: AbortSignal }) => T | PromiseLike<T>): (context: { signal?: AbortSignal }) => Promise<T>;
  /** Subscribe to the policy's onSuccess/onGiveUp so that outcomes reach the engine. */
  attach(policy: { onSuccess(l: () => void): { dispose(): void }; onGiveUp(l: () => void): { dispose(): void } }): { dispose(): void };
}
/** cockatiel IBreaker backed by the engine's circuit breaker for `dependency`. */
export declare class EngineBreaker {
  constructor(engine?: Engine, options?: { dependency?: string; key?: string });
  state: unknown;
  success(state: unknown): void;
  failure(state: unknown): boolean;
}
export interface PRetryAdapterOptions extends AdapterOptions {
  signal?: AbortSignal;
  retries?: number;
  maxRetryTime?: number;
  onFailedAttempt?(context: { error: Error; attemptNumber: number; retriesLeft: number }, recommendation: Recommendation): void | Promise<void>;
  sleep?(ms: number, signal?: AbortSignal): void | Promise<void>;
}
/** p-retry options: `const o = pRetryOptions(engine, {key}); await pRetry(o.wrap(fn), o)`. */
export declare function pRetryOptions(engine?: Engine, options?: PRetryAdapterOptions): {
  retries: number;
  minTimeout: 0;
  maxTimeout: 0;
  factor: 1;
  randomize: false;
  signal?: AbortSignal;
  maxRetryTime?: number;
  episode: Episode;
  succeeded(): void;
  wrap<A extends unknown[], T>(fn: (...args: A) => T | PromiseLike<T>): (...args: A) => Promise<T>;
  onFailedAttempt(context: { error: Error; attemptNumber: number; retriesLeft: number }): Promise<void>;
  shouldRetry(context: unknown): boolean;
};

/** An engine's membership in a fleet pooling what it learns through Redis (`redis://`,
 * `rediss://`). Errors carry codes: INVALID_CONFIG, FLEET_UNAVAILABLE, INVALID_STATE. */
export declare class FleetStore {
  constructor(engine: Engine, url: string, options?: FleetOptions);
  syncNow(): void;
  readonly engineId: string;
  stats(): FleetStats;
  close(): void;
}

/** A due retry handed to a worker: ack it when done, nack it to run again later. */
export interface Claim {
  jobId: string;
  payload: Buffer;
  /** Times handed out, this one included (above 1: redelivered after a lease ran out). */
  deliveries: number;
  /** The lease ends then (Unix seconds, the caller's clock). */
  leaseUntil: number;
}

/** Durable retries on a SQLite file or Redis (`redis://`, `rediss://`): schedule, claim with a
 * lease, ack or nack. Times are Unix seconds. Errors carry codes: INVALID_ARGUMENT,
 * SCHEDULE_STORAGE. */
export declare class RetrySchedule {
  constructor(location: string, options?: { namespace?: string });
  schedule(jobId: string, payload: Buffer | string, due: number): void;
  scheduleRecommended(jobId: string, payload: Buffer | string, now: number, recommendation: Recommendation): boolean;
  claimDue(now: number, limit: number, leaseSecs: number): Claim[];
  ack(jobId: string): boolean;
  nack(jobId: string, due: number): boolean;
  count(): number;
}

/** The part of a BullMQ job the integration reads. */
export interface BullmqJobLike { id?: string; queueName: string; attemptsMade: number; finishedOn?: number }

export interface BullmqRetryOptions {
  /** The engine's queue key (default: the job's queue name). */
  key?: string | ((job: BullmqJobLike) => string);
  tenant?: string | ((job: BullmqJobLike) => string | undefined);
  dependency?: string;
  failure?: (err: unknown) => FailureInput;
}

/** BullMQ retries decided by the engine: `settings` for the Worker, `jobOptions` for
 * `queue.add`, `attach(worker)` to feed outcomes back. */
export interface BullmqRetry {
  settings: { backoffStrategy: (attemptsMade: number, type?: string, err?: Error, job?: BullmqJobLike) => number };
  backoff: { type: string };
  jobOptions: { attempts: number; backoff: { type: string } };
  backoffStrategy: (attemptsMade: number, type?: string, err?: Error, job?: BullmqJobLike) => number;
  attach(worker: { on(event: string, listener: (...args: any[]) => void): unknown; off(event: string, listener: (...args: any[]) => void): unknown }): () => void;
  readonly openEpisodes: number;
}

export declare function bullmqRetry(engine?: Engine, options?: BullmqRetryOptions): BullmqRetry;
