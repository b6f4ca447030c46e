/**
 * The tier router: deterministic rules first (client hint where allowed, tool hints, length,
 * conversation depth), then an optional classifier under a strict time budget, then `fast`.
 */

/** Which rule decided. */
export type RouteRule = 'client' | 'tools' | 'complex' | 'length' | 'depth' | 'classifier' | 'short';

export interface RouteDecision {
  tier: string;
  rule: RouteRule;
}

export interface RouteInput {
  text: string;
  /** Earlier user turns in the session. */
  depth: number;
  /** `send.tier`, when the client asked for one. */
  hint?: string;
}

export interface RouterOptions {
  /** Tiers a client may ask for (`send.tier`); others are ignored. @default [] */
  clientTiers?: readonly string[];
  /** Longest text sent to `fast`. @default 120 */
  fastMaxChars?: number;
  /** Most earlier user turns for which `fast` is still picked. @default 20 */
  fastMaxDepth?: number;
  /**
   * A small classifier for turns no rule sent to `smart`: answers `fast` or `smart`, or
   * undefined for no opinion. Bounded by `classifierBudgetMs`; a timeout or error falls back to the rules.
   */
  classify?(text: string, signal: AbortSignal): Promise<'fast' | 'smart' | undefined>;
  /** @default 300 */
  classifierBudgetMs?: number;
  /** Told when the classifier failed or ran out of time (a warn log). */
  onClassifierFailed?(error: unknown): void;
}

/** Turns that need a tool: arithmetic, memory, the clock. */
const TOOL_HINT = /\d\s*[-+*/×÷^%]\s*[(\d]|\b(calculate|compute|multiply|divide|remember|recall|forget|what time|what day|today's date)\b/i;
/** Turns that ask for reasoning or writing. */
const COMPLEX_HINT = /\b(why|explain|compare|analy[sz]e|step[- ]by[- ]step|prove|plan|design|write|code|debug|summari[sz]e|translate)\b/i;

/**
 * Creates the router.
 * @example
 * const router = createRouter({ fastMaxChars: 120 });
 * await router.route({ text: 'hello', depth: 0 }); // { tier: 'fast', rule: 'short' }
 * await router.route({ text: 'What is (12 + 7) * 3?', depth: 0 }); // { tier: 'smart', rule: 'tools' }
 */
export function createRouter(options: RouterOptions = {}) {
  const clientTiers = new Set(options.clientTiers ?? []);
  const fastMaxChars = options.fastMaxChars ?? 120;
  const fastMaxDepth = options.fastMaxDepth ?? 20;
  const budgetMs = options.classifierBudgetMs ?? 300;

  /** The rules alone (no classifier): what the evals' routing set checks. */
  function byRules(input: RouteInput): RouteDecision | null {
    if (input.hint !== undefined && clientTiers.has(input.hint)) return { tier: input.hint, rule: 'client' };
    const text = input.text.trim();
    if (TOOL_HINT.test(text)) return { tier: 'smart', rule: 'tools' };
    if (COMPLEX_HINT.test(text)) return { tier: 'smart', rule: 'complex' };
    if (text.length > fastMaxChars) return { tier: 'smart', rule: 'length' };
    if (input.depth > fastMaxDepth) return { tier: 'smart', rule: 'depth' };
    return null;
  }

  async function classified(text: string): Promise<RouteDecision | null> {
    const classify = options.classify;
    if (!classify) return null;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`classifier took longer than ${budgetMs} ms`));
        controller.abort(); // after the rejection: a late answer loses the race
      }, budgetMs);
    });
    try {
      const tier = await Promise.race([classify(text, controller.signal), timeout]);
      return tier === 'fast' || tier === 'smart' ? { tier, rule: 'classifier' } : null;
    } catch (error) {
      options.onClassifierFailed?.(error);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    byRules,
    async route(input: RouteInput): Promise<RouteDecision> {
      return byRules(input) ?? (await classified(input.text)) ?? { tier: 'fast', rule: 'short' };
    },
  };
}

export type TierRouter = ReturnType<typeof createRouter>;
