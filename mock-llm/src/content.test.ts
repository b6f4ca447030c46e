import { findArithmetic } from './content.js';

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
