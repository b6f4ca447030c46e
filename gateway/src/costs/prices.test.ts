import { costNanos, fromUsd, PriceBook, toUsd } from './prices.js';

describe('PriceBook', () => {
  const book = new PriceBook([
    { name: 'mini', model: 'gpt-4o-mini', inputPricePer1k: 0.00015, outputPricePer1k: 0.0006 },
    { name: 'big', model: 'gpt-4o', inputPricePer1k: 0.0025, outputPricePer1k: 0.01 },
    { name: 'free', model: 'llama' },
  ]);

  it('prices usage in integer nano-dollars, rounding up, and reads them back as dollars', () => {
    expect(costNanos(book.price('mini'), { inputTokens: 1000, outputTokens: 1000 })).toBe(750_000);
    expect(costNanos(book.price('big'), { inputTokens: 499, outputTokens: 13 })).toBe(1_377_500);
    expect(costNanos(book.price('mini'), { inputTokens: 1, outputTokens: 0 })).toBe(150);
    expect(toUsd(1_377_500)).toBe(0.0013775);
    expect(fromUsd(0.001)).toBe(1_000_000);
  });

  it('costs nothing for an unpriced or unknown model, and bounds a tier by its dearest model', () => {
    expect(costNanos(book.price('free'), { inputTokens: 5000, outputTokens: 5000 })).toBe(0);
    expect(costNanos(book.price('nope'), { inputTokens: 5000, outputTokens: 5000 })).toBe(0);
    expect(costNanos(book.price(undefined), { inputTokens: 1, outputTokens: 1 })).toBe(0);
    expect(book.highest(['mini', 'big'])).toEqual({ inputPer1k: 0.0025, outputPer1k: 0.01 });
    expect(book.priced).toBe(true);
    expect(new PriceBook([{ name: 'a', model: 'a' }]).priced).toBe(false);
  });
});
