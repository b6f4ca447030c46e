/** React bindings: `@switchboard/protocol/react` (needs `react` 18 or 19). */
export { SwitchboardProvider, useChatSession, useSwitchboard } from './hooks.js';
export { getChatStore } from '../chat-store.js';
export { addPendingUser, dropPendingUser, emptyChat, reduceChat } from '../chat-state.js';
export type { ChatSessionHook, SwitchboardHook } from './hooks.js';
export type { ChatSnapshot, ChatStore, ChatStoreOptions } from '../chat-store.js';
export type { AssistantMessage, ChatMessage, ChatState, ToolCall, UserMessage } from '../chat-state.js';
