export { createLimiters } from './limiters.js';
export { DEFAULT_LIMITS } from './types.js';
export type { LimitersOptions } from './limiters.js';
export type {
  LimitDecision,
  LimitDenied,
  LimitName,
  Limiters,
  LimitsConfig,
  RateLimit,
  SocketLimit,
  SocketSlot,
  TokenBudget,
} from './types.js';
