/** The agent's `remember` and `recall` tools on a {@link Memory}. */
import type { RunnableConfig } from '@langchain/core/runnables';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import type { Memory } from './memory-service.js';

/** Arguments of the `remember` tool. */
export const rememberSchema = z.object({
  fact: z.string().trim().min(1).max(1_000).describe('One fact about the user to keep across conversations, e.g. "my favourite colour is teal".'),
});

/** Arguments of the `recall` tool. */
export const recallSchema = z.object({
  query: z.string().trim().min(1).max(1_000).describe('What to look up in what the user told you before, e.g. "favourite colour".'),
});

/** The user the agent runs for, from `config.configurable.userId`. */
function userIdOf(config: RunnableConfig | undefined): string {
  const userId = (config?.configurable as { userId?: unknown } | undefined)?.userId;
  if (typeof userId !== 'string' || !userId) throw new Error('memory tools need configurable.userId');
  return userId;
}

/**
 * Creates `[remember, recall]`. Both read the user from `config.configurable.userId`, so a model
 * can never reach another user's memories. `recall` answers the matching memories joined by
 * "; ", or an empty string when there are none.
 *
 * @example
 * const tools = [calculatorTool, clockTool, ...createMemoryTools(memory)];
 */
export function createMemoryTools(memory: Memory): StructuredToolInterface[] {
  const remember = tool(
    async ({ fact }: z.infer<typeof rememberSchema>, config?: RunnableConfig) => {
      const result = await memory.remember(userIdOf(config), fact, config?.signal);
      return result.stored ? `Remembered: ${fact}` : `Already remembered: ${fact}`;
    },
    {
      name: 'remember',
      description: 'Store a fact about the user for future conversations.',
      schema: rememberSchema,
    },
  );
  const recall = tool(
    async ({ query }: z.infer<typeof recallSchema>, config?: RunnableConfig) =>
      (await memory.recall(userIdOf(config), query, config?.signal)).join('; '),
    {
      name: 'recall',
      description: 'Look up facts the user told you in earlier conversations.',
      schema: recallSchema,
    },
  );
  return [remember, recall];
}
