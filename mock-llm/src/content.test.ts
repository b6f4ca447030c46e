import { decideAnswer, findArithmetic } from './content.js';
import { validateScenario } from './scenario.js';

describe('findArithmetic', () => {
  it('finds whole expressions with parentheses, decimals and operators', () => {
    expect(findArithmetic('What is 12*(3+4)?')).toBe('12*(3+4)');
    expect(findArithmetic('what is 2 + 3 * 4?')).toBe('2 + 3 * 4');
    expect(findArithmetic('compute (1.5 - 0.5) ^ 2 please')).toBe('(1.5 - 0.5) ^ 2');
    expect(findArithmetic('(the answer is 6*7)')).toBe('6*7');
  });
  it('ignores numbers without an operator', () => {
    expect(findArithmetic('I have 3 cats and 2 dogs')).toBeUndefined();
    expect(findArithmetic('no numbers here')).toBeUndefined();
  });
});

describe('decideAnswer with a scripted tool call', () => {
  const tools = [{ type: 'function', function: { name: 'clock', parameters: { properties: { timezone: { type: 'string' } } } } }];
  const opts = { responseTokens: 3, toolCall: { name: 'clock', arguments: { timezone: 'UTC' } }, textAfterTool: 'It is noon.' };
  it('calls the scripted tool when it is offered, then answers the fixed text after its result', () => {
    const first = decideAnswer([{ role: 'user', content: 'hi' }], tools, opts);
    expect(first).toMatchObject({ kind: 'tool', name: 'clock', arguments: '{"timezone":"UTC"}' });
    const after = decideAnswer([{ role: 'user', content: 'hi' }, { role: 'tool', content: '12:00', tool_call_id: 'c' }], tools, opts);
    expect(after).toEqual({ kind: 'text', tokens: ['It', ' is', ' noon.'] });
  });
  it('ignores a scripted tool the request does not offer', () => {
    expect(decideAnswer([{ role: 'user', content: 'hi' }], [], opts)).toMatchObject({ kind: 'text' });
  });
  it('rejects a malformed toolCall', () => {
    expect(() => validateScenario({ toolCall: { name: 1 } }, 'test')).toThrow(/toolCall must be/);
    expect(validateScenario({ toolCall: { name: 'clock' } }, 'test').toolCall).toEqual({ name: 'clock', arguments: {} });
  });
});
