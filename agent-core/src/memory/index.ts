/** Long-term memory: embedders, the store contract, the memory service and its tools. */
export { createLocalEmbedder } from './local-embedder.js';
export { createOpenAIEmbedder, EmbeddingError } from './openai-embedder.js';
export { createRuleFactExtractor, extractFacts } from './fact-extractor.js';
export { createInMemoryStore, cosineSimilarity } from './in-memory-store.js';
export { createMemory } from './memory-service.js';
export { createMemoryTools, recallSchema, rememberSchema } from './tools.js';

export type { LocalEmbedderOptions } from './local-embedder.js';
export type { OpenAIEmbedderOptions } from './openai-embedder.js';
export type { Memory, MemoryOptions, MemoryStats, RememberResult } from './memory-service.js';
export type { Embedder, FactExtractor, MemoryHit, MemoryLogger, MemoryRecord, MemoryStore, TurnInput } from './types.js';
