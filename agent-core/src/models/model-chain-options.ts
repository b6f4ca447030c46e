import type { ChatOpenAICallOptions } from '@langchain/openai';

/** Call options: those of ChatOpenAI (tools, tool_choice, stop, signal, …). */
export type ModelChainCallOptions = ChatOpenAICallOptions;
