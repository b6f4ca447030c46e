import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import { evaluateExpression, formatNumber, MAX_EXPRESSION_LENGTH } from './expression.js';

/** Arguments of the `calculator` tool. */
export const calculatorSchema = z.object({
  expression: z
    .string()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .describe('An arithmetic expression, e.g. "12*(3+4)" or "sqrt(2)^2 + max(1, 5) % 3".'),
});

/**
 * Evaluates arithmetic with a real parser (never `eval`). Returns the result as a plain number
 * string, e.g. "84"; bad input throws an ExpressionError whose message the model sees.
 *
 * @example
 * await calculatorTool.invoke({ expression: '12*(3+4)' }) // "84"
 */
export const calculatorTool: StructuredToolInterface = tool(
  ({ expression }: z.infer<typeof calculatorSchema>) => formatNumber(evaluateExpression(expression)),
  {
    name: 'calculator',
    description:
      'Evaluate an arithmetic expression exactly. Supports + - * / % ^, parentheses, decimals, ' +
      'constants pi and e, and functions sqrt, abs, round, floor, ceil, ln, log, exp, sin, cos, tan, min, max.',
    schema: calculatorSchema,
  },
);
