/**
 * The client SDK without the zod schemas: what a browser app imports
 * (`@switchboard/protocol/browser`; the gateway serves it bundled at `/client.js`).
 */
export { SwitchboardClient } from './client.js';
export { SwitchboardError } from './errors.js';
export { createAuth } from './auth.js';
export { CloseCode, DoneReason, ErrorCode, IfBusy, Limits, SUBPROTOCOL, WS_PATH } from './codes.js';
export { isSessionFrame, readServerFrame } from './guard.js';
export { browserStorage, memoryStorage } from './storage.js';
export { DEFAULT_TEXT_LIMITS, textProblem, utf8Length } from './text-limits.js';
export { getChatStore } from './chat-store.js';
export { addPendingUser, dropPendingUser, emptyChat, mergeHistory, reduceChat } from './chat-state.js';
export type { Auth, AuthOptions, AuthTokens } from './auth.js';
export type { ClientEvents, ClientOptions, ConnectionState, SessionHandle, TokenProvider, WebSocketConstructor, WebSocketLike } from './client.js';
export type { SwitchboardErrorCode } from './errors.js';
export type {
  AckFrame,
  ClientFrame,
  DoneFrame,
  ErrorFrame,
  GoawayFrame,
  JoinedFrame,
  ReadyFrame,
  SendFrame,
  ServerFrame,
  SessionFrame,
  TokenFrame,
  ToolFrame,
  UserFrame,
} from './frames.js';
export type { RunHandle } from './run-stream.js';
export type { ResumePoint, StorageLike } from './storage.js';
export type { TextLimits } from './text-limits.js';
export type { ChatSnapshot, ChatStore, ChatStoreOptions } from './chat-store.js';
export type { AssistantMessage, ChatMessage, ChatState, HistoryRow, ToolCall, UserMessage } from './chat-state.js';
