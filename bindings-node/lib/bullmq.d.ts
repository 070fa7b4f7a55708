export { bullmqRetry, BullmqRetry, BullmqRetryOptions, BullmqJobLike } from './index';
export declare const BACKOFF_TYPE: string;
export declare const UNCAPPED_ATTEMPTS: number;
export declare const MAX_OPEN_EPISODES: number;
