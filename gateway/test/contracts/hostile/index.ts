import { describeFramesHostile, describeTranscriptFailure } from './frames.hostile.js';
import { describeHttpFailureLogging, describeHttpHostile } from './http.hostile.js';
import { describePageHostile } from './page.hostile.js';
import type { Transport } from './start.js';
import { describeTokensHostile } from './tokens.hostile.js';

/** Every hostile-input suite (HTTP routes, tokens, socket frames, page), on one transport. */
export function describeHostileSuites(transport: Transport): void {
  describeHttpHostile(transport);
  describeHttpFailureLogging(transport);
  describeTokensHostile(transport);
  describeFramesHostile(transport);
  describeTranscriptFailure(transport);
  describePageHostile(transport);
}
