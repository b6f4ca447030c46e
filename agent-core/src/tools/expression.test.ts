import { evaluateExpression, ExpressionError, formatNumber, MAX_EXPRESSION_LENGTH } from './expression.js';

describe('evaluateExpression', () => {
  it.each([
    ['12*(3+4)', 84],
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['2 ^ 10', 1024],
    ['2 ** 3', 8],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['-(4 - 6)', 2],
    ['+5', 5],
    ['3.5 * 2', 7],
    ['.5 + .25', 0.75],
    ['1.5e3', 1500],
    ['2E-2 * 100', 2],
    ['sqrt(16)', 4],
    ['SQRT(9) + Abs(-2)', 5],
    ['abs(-3.25)', 3.25],
    ['min(4, 2, 8)', 2],
    ['max(1, sqrt(49), 3)', 7],
    ['round(2.5) + floor(2.9) + ceil(2.1)', 8],
    ['log(1000)', 3],
    ['ln(e)', 1],
    ['exp(0)', 1],
    ['cos(0)', 1],
    ['2 * pi', 2 * Math.PI],
    ['  ( ( 1 ) )  ', 1],
    ['1-1', 0],
    ['6/4', 1.5],
  ])('%s = %d', (expression, expected) => {
    expect(evaluateExpression(expression)).toBeCloseTo(expected, 10);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['1 +', 'syntax'],
    ['(1 + 2', 'syntax'],
    ['1 + 2)', 'syntax'],
    ['1 2', 'syntax'],
    ['*3', 'syntax'],
    ['2 ^', 'syntax'],
    ['1..2', 'syntax'],
    ['()', 'syntax'],
    ['sqrt 4', 'syntax'],
    ['max(1,)', 'syntax'],
    ['1 / 0', 'division_by_zero'],
    ['5 % 0', 'division_by_zero'],
    ['1 / (2 - 2)', 'division_by_zero'],
    ['foo + 1', 'unknown_name'],
    ['bar(2)', 'unknown_name'],
    ['constructor(1)', 'unknown_name'],
    ['__proto__', 'unknown_name'],
    ['toString', 'unknown_name'],
    ['sqrt(1, 2)', 'arity'],
    ['sqrt(-1)', 'not_finite'],
    ['10 ^ 400', 'not_finite'],
    ['1 & 2', 'syntax'],
    ['2; process.exit(1)', 'syntax'],
    ['require("fs")', 'syntax'],
    ['globalThis', 'unknown_name'],
    ['`1`', 'syntax'],
    ['"1"+1', 'syntax'],
    ['[1]', 'syntax'],
    ['a=1', 'syntax'],
  ])('rejects %j with %s', (expression, code) => {
    let caught: unknown;
    try {
      evaluateExpression(expression);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    expect((caught as ExpressionError).code).toBe(code);
    expect((caught as ExpressionError).message.length).toBeGreaterThan(5);
  });

  it('rejects over-long input', () => {
    const long = '1+'.repeat(MAX_EXPRESSION_LENGTH) + '1';
    expect(() => evaluateExpression(long)).toThrow(/limit is 500/);
  });

  it('rejects deep nesting instead of overflowing the stack', () => {
    expect(() => evaluateExpression('('.repeat(200) + '1' + ')'.repeat(200))).toThrow(expect.objectContaining({ code: 'too_deep' }));
    expect(() => evaluateExpression('-'.repeat(200) + '1')).toThrow(expect.objectContaining({ code: 'too_deep' }));
  });

  it('reports the position of the problem', () => {
    expect(() => evaluateExpression('1 + $')).toThrow('Unexpected character "$" at position 5');
  });

  it('rejects non-string input without crashing', () => {
    expect(() => evaluateExpression(42 as unknown as string)).toThrow(ExpressionError);
  });

  it('never executes code, even when handed JavaScript', () => {
    const marker = globalThis as { pwned?: boolean };
    for (const attack of ['(globalThis.pwned = true)', 'this.constructor.constructor("return 1")()', 'eval("1")', 'Function("x")']) {
      expect(() => evaluateExpression(attack)).toThrow(ExpressionError);
    }
    expect(marker.pwned).toBeUndefined();
  });
});

describe('formatNumber', () => {
  it('drops floating-point noise', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(84)).toBe('84');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(1 / 3)).toBe('0.333333333333333');
  });
});
