import type { ModelSpec, TokenUsage } from '@switchboard/agent-core';

/** Nano-dollars per dollar: spend is counted in integer nano-dollars (no float drift across runs). */
export const NANOS_PER_USD = 1_000_000_000;

/** A model's prices per 1,000 tokens, in US dollars. */
export interface Price {
  inputPer1k: number;
  outputPer1k: number;
}

const FREE: Price = Object.freeze({ inputPer1k: 0, outputPer1k: 0 });

/** Prices of the configured models by name; an unknown or unpriced model costs 0. */
export class PriceBook {
  private readonly prices = new Map<string, Price>();

  constructor(models: readonly ModelSpec[]) {
    for (const m of models) this.prices.set(m.name, { inputPer1k: m.inputPricePer1k ?? 0, outputPer1k: m.outputPricePer1k ?? 0 });
  }

  /** True when any model has a price (otherwise spend is always 0). */
  get priced(): boolean {
    for (const p of this.prices.values()) if (p.inputPer1k > 0 || p.outputPer1k > 0) return true;
    return false;
  }

  price(model: string | undefined): Price {
    return (model !== undefined && this.prices.get(model)) || FREE;
  }

  /** The highest input and output prices among `models` (an upper bound before the answering model is known). */
  highest(models: readonly string[]): Price {
    let inputPer1k = 0;
    let outputPer1k = 0;
    for (const name of models) {
      const p = this.price(name);
      inputPer1k = Math.max(inputPer1k, p.inputPer1k);
      outputPer1k = Math.max(outputPer1k, p.outputPer1k);
    }
    return { inputPer1k, outputPer1k };
  }
}

/** The cost of `usage` at `price`, in nano-dollars, rounded up. */
export function costNanos(price: Price, usage: Pick<TokenUsage, 'inputTokens' | 'outputTokens'>): number {
  const usd = (usage.inputTokens * price.inputPer1k + usage.outputTokens * price.outputPer1k) / 1000;
  return Math.max(0, Math.ceil(usd * NANOS_PER_USD - 1e-6));
}

/** Nano-dollars as dollars, rounded to 9 decimals (what `done.usage.costUsd` carries). */
export function toUsd(nanos: number): number {
  return Math.round(nanos) / NANOS_PER_USD;
}

/** Dollars as nano-dollars (limits from the configuration). */
export function fromUsd(usd: number): number {
  return Math.round(usd * NANOS_PER_USD);
}
