import { routingOutcomes } from './routing.js';

describe('routing case set', () => {
  it('sends greetings to fast, arithmetic, tools and long or deep turns to smart, as the case set says', async () => {
    const { outcomes, where } = await routingOutcomes();
    expect(outcomes.filter((o) => !o.pass)).toEqual([]);
    expect(where.fast).toContain('greeting');
    expect(where.smart).toContain('arithmetic-multi-step');
  });
});
