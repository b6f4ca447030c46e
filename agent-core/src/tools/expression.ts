/**
 * A recursive-descent parser and evaluator for arithmetic expressions. It never executes code:
 * input is tokenised into numbers, operators and a fixed set of names, nothing else.
 *
 * Grammar (lowest precedence first):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := ('+' | '-') unary | power
 *   power   := primary (('^' | '**') unary)?        right-associative, so -2^2 = -4, 2^-1 = 0.5
 *   primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
 */

/** Longest accepted expression, in characters. */
export const MAX_EXPRESSION_LENGTH = 500;
/** Deepest accepted nesting of parentheses, calls and unary operators. */
export const MAX_EXPRESSION_DEPTH = 64;

/** Stable codes of expression errors. */
export const ExpressionErrorCode = {
  Empty: 'empty',
  TooLong: 'too_long',
  TooDeep: 'too_deep',
  Syntax: 'syntax',
  UnknownName: 'unknown_name',
  Arity: 'arity',
  DivisionByZero: 'division_by_zero',
  NotFinite: 'not_finite',
} as const;

export type ExpressionErrorCode = (typeof ExpressionErrorCode)[keyof typeof ExpressionErrorCode];

/** A bad expression: `code` is stable, `position` is the 0-based offset where it went wrong. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    readonly code: ExpressionErrorCode,
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI };

interface FunctionSpec {
  min: number;
  max: number;
  fn: (...args: number[]) => number;
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  sqrt: { min: 1, max: 1, fn: Math.sqrt },
  cbrt: { min: 1, max: 1, fn: Math.cbrt },
  abs: { min: 1, max: 1, fn: Math.abs },
  round: { min: 1, max: 1, fn: Math.round },
  floor: { min: 1, max: 1, fn: Math.floor },
  ceil: { min: 1, max: 1, fn: Math.ceil },
  ln: { min: 1, max: 1, fn: Math.log },
  log: { min: 1, max: 1, fn: Math.log10 },
  log2: { min: 1, max: 1, fn: Math.log2 },
  exp: { min: 1, max: 1, fn: Math.exp },
  sin: { min: 1, max: 1, fn: Math.sin },
  cos: { min: 1, max: 1, fn: Math.cos },
  tan: { min: 1, max: 1, fn: Math.tan },
  min: { min: 1, max: 100, fn: Math.min },
  max: { min: 1, max: 100, fn: Math.max },
};

type Token =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'name'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number };

const OPERATORS = ['**', '+', '-', '*', '/', '%', '^', '(', ')', ','];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0].toLowerCase(), pos: i });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', value: op, pos: i });
      i += op.length;
      continue;
    }
    throw new ExpressionError(ExpressionErrorCode.Syntax, `Unexpected character "${ch}" at position ${i + 1}`, i);
  }
  tokens.push({ kind: 'end', pos: src.length });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of input' : `"${token.value}" at position ${token.pos + 1}`;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const value = this.expr();
    const next = this.peek();
    if (next.kind !== 'end') {
      throw new ExpressionError(ExpressionErrorCode.Syntax, `Unexpected ${describe(next)}`, next.pos);
    }
    return value;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private take(): Token {
    const t = this.tokens[this.index];
    if (t.kind !== 'end') this.index += 1;
    return t;
  }

  private expect(value: string): void {
    const t = this.take();
    if (t.kind !== 'op' || t.value !== value) {
      throw new ExpressionError(ExpressionErrorCode.Syntax, `Expected "${value}" but found ${describe(t)}`, t.pos);
    }
  }

  private enter(pos: number): void {
    this.depth += 1;
    if (this.depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionError(ExpressionErrorCode.TooDeep, `Expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`, pos);
    }
  }

  private expr(): number {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.take();
      const right = this.term();
      left = op.kind === 'op' && op.value === '+' ? left + right : left - right;
    }
    return left;
  }

  private term(): number {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.take();
      const right = this.unary();
      if (op.kind !== 'op') break;
      if (op.value === '*') {
        left *= right;
      } else {
        if (right === 0) {
          const what = op.value === '/' ? 'Division' : 'Modulo';
          throw new ExpressionError(ExpressionErrorCode.DivisionByZero, `${what} by zero at position ${op.pos + 1}`, op.pos);
        }
        left = op.value === '/' ? left / right : left % right;
      }
    }
    return left;
  }

  private unary(): number {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.take();
      this.enter(op.pos);
      const value = this.unary();
      this.depth -= 1;
      return op.kind === 'op' && op.value === '-' ? -value : value;
    }
    return this.power();
  }

  private power(): number {
    const base = this.primary();
    if (this.isOp('^') || this.isOp('**')) {
      const op = this.take();
      this.enter(op.pos);
      const exponent = this.unary();
      this.depth -= 1;
      return base ** exponent;
    }
    return base;
  }

  private primary(): number {
    const t = this.take();
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && t.value === '(') {
      this.enter(t.pos);
      const value = this.expr();
      this.expect(')');
      this.depth -= 1;
      return value;
    }
    if (t.kind === 'name') {
      if (this.isOp('(')) return this.call(t.value, t.pos);
      const constant = CONSTANTS[t.value];
      if (constant !== undefined && Object.hasOwn(CONSTANTS, t.value)) return constant;
      if (Object.hasOwn(FUNCTIONS, t.value)) {
        throw new ExpressionError(ExpressionErrorCode.Syntax, `Function "${t.value}" needs parentheses, e.g. ${t.value}(4)`, t.pos);
      }
      throw new ExpressionError(ExpressionErrorCode.UnknownName, `Unknown name "${t.value}" at position ${t.pos + 1}`, t.pos);
    }
    throw new ExpressionError(ExpressionErrorCode.Syntax, `Unexpected ${describe(t)}`, t.pos);
  }

  private call(name: string, pos: number): number {
    if (!Object.hasOwn(FUNCTIONS, name)) {
      throw new ExpressionError(ExpressionErrorCode.UnknownName, `Unknown function "${name}" at position ${pos + 1}`, pos);
    }
    const spec = FUNCTIONS[name];
    this.expect('(');
    this.enter(pos);
    const args = [this.expr()];
    while (this.isOp(',')) {
      this.take();
      args.push(this.expr());
    }
    this.expect(')');
    this.depth -= 1;
    if (args.length < spec.min || args.length > spec.max) {
      const wanted = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
      throw new ExpressionError(ExpressionErrorCode.Arity, `${name}() takes ${wanted} argument(s), got ${args.length}`, pos);
    }
    return spec.fn(...args);
  }
}

/**
 * Evaluates an arithmetic expression: `+ - * / % ^` (also `**`), parentheses, unary minus,
 * decimals and exponents (`1.5e3`), constants `pi`, `e`, `tau`, functions `sqrt cbrt abs round
 * floor ceil ln log log2 exp sin cos tan min max`. Throws ExpressionError on bad input.
 *
 * @example
 * evaluateExpression('12*(3+4)') // 84
 * evaluateExpression('max(2, sqrt(16)) ^ 2') // 16
 */
export function evaluateExpression(expression: string): number {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new ExpressionError(ExpressionErrorCode.Empty, 'Expression is empty');
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      ExpressionErrorCode.TooLong,
      `Expression is ${expression.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  const value = new Parser(tokenize(expression)).parse();
  if (!Number.isFinite(value)) {
    const why = Number.isNaN(value) ? 'is not a real number' : 'is too large';
    throw new ExpressionError(ExpressionErrorCode.NotFinite, `The result ${why}`);
  }
  return value;
}

/** Formats a result without binary floating-point noise: 0.1+0.2 → "0.3". */
export function formatNumber(value: number): string {
  const rounded = Number.parseFloat(value.toPrecision(15));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
