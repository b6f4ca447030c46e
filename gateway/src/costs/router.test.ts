import { createRouter } from './router.js';

describe('createRouter', () => {
  const router = createRouter({ clientTiers: ['smart'], fastMaxChars: 40, fastMaxDepth: 3 });

  it.each([
    ['hello', 0, undefined, 'fast', 'short'],
    ['thanks!', 2, undefined, 'fast', 'short'],
    ['What is (12 + 7) * 3 - 4?', 0, undefined, 'smart', 'tools'],
    ['please remember that my cat is called Miso', 0, undefined, 'smart', 'tools'],
    ['why is the sky blue', 0, undefined, 'smart', 'complex'],
    ['tell me about the history of the printing press in Europe', 0, undefined, 'smart', 'length'],
    ['ok', 4, undefined, 'smart', 'depth'],
    ['hello', 0, 'smart', 'smart', 'client'],
    ['hello', 0, 'fast', 'fast', 'short'],
    ['hello', 0, 'turbo', 'fast', 'short'],
  ] as const)('%j at depth %d (hint %s) goes to %s by %s', async (text, depth, hint, tier, rule) => {
    expect(await router.route({ text, depth, hint })).toEqual({ tier, rule });
  });

  it('asks the classifier only when no rule decided, and falls back to the rules when it is slow or fails', async () => {
    const asked: string[] = [];
    const failures: unknown[] = [];
    const slow = createRouter({
      classifierBudgetMs: 20,
      onClassifierFailed: (e) => failures.push(e),
      classify: (text, signal) => {
        asked.push(text);
        if (text === 'boom') return Promise.reject(new Error('down'));
        if (text === 'slow') return new Promise((resolve) => signal.addEventListener('abort', () => resolve('smart')));
        return Promise.resolve(text === 'deep question' ? 'smart' : undefined);
      },
    });
    expect(await slow.route({ text: 'deep question', depth: 0 })).toEqual({ tier: 'smart', rule: 'classifier' });
    expect(await slow.route({ text: 'hm', depth: 0 })).toEqual({ tier: 'fast', rule: 'short' });
    expect(await slow.route({ text: 'slow', depth: 0 })).toEqual({ tier: 'fast', rule: 'short' });
    expect(await slow.route({ text: 'boom', depth: 0 })).toEqual({ tier: 'fast', rule: 'short' });
    expect(await slow.route({ text: 'compute 2*3', depth: 0 })).toEqual({ tier: 'smart', rule: 'tools' });
    expect(asked).toEqual(['deep question', 'hm', 'slow', 'boom']);
    expect(failures).toHaveLength(2);
  });
});
