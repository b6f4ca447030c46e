export { CloseCode, DEFAULT_MAX_FRAME_BYTES, DoneReason, ErrorCode, IfBusy, Limits, SUBPROTOCOL, WS_PATH } from './codes.js';
export {
  AckFrame,
  CancelFrame,
  ClientFrame,
  CLIENT_FRAME_TYPES,
  DoneFrame,
  ErrorFrame,
  GoawayFrame,
  HelloFrame,
  JoinedFrame,
  JoinFrame,
  LeaveFrame,
  PingFrame,
  PongFrame,
  ReadyFrame,
  SendFrame,
  ServerFrame,
  SERVER_FRAME_TYPES,
  SessionFrame,
  SESSION_FRAME_TYPES,
  TokenFrame,
  ToolFrame,
  UserFrame,
} from './frames.js';
export { encodeFrame, parseClientFrame, parseServerFrame } from './codec.js';
export { isSessionFrame, readServerFrame } from './guard.js';
export {
  AuthResponse,
  CreateSessionBody,
  ErrorBody,
  FeedbackBody,
  LoginBody,
  PostMessageBody,
  RefreshBody,
  RegisterBody,
  SessionDetailDto,
  SessionDto,
  UpdateSessionBody,
  UserDto,
} from './http.js';
export { SwitchboardClient } from './client.js';
export { SwitchboardError } from './errors.js';
export { createAuth } from './auth.js';
export { browserStorage, memoryStorage } from './storage.js';
export { DEFAULT_TEXT_LIMITS, textProblem, utf8Length } from './text-limits.js';
export { getChatStore } from './chat-store.js';
export { addPendingUser, dropPendingUser, emptyChat, mergeHistory, reduceChat } from './chat-state.js';
export type { ParseResult } from './codec.js';
export type { SessionFrameInput } from './frames.js';
export type { Auth, AuthOptions, AuthTokens } from './auth.js';
export type { ClientEvents, ClientOptions, ConnectionState, SessionHandle, TokenProvider, WebSocketConstructor, WebSocketLike } from './client.js';
export type { SwitchboardErrorCode } from './errors.js';
export type { RunHandle } from './run-stream.js';
export type { ResumePoint, StorageLike } from './storage.js';
export type { TextLimits } from './text-limits.js';
export type { ChatSnapshot, ChatStore, ChatStoreOptions } from './chat-store.js';
export type { AssistantMessage, ChatMessage, ChatState, HistoryRow, ToolCall, UserMessage } from './chat-state.js';
