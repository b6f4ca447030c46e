export { CloseCode, DoneReason, ErrorCode, IfBusy, SUBPROTOCOL, WS_PATH } from './codes.js';
export {
  AckFrame,
  CancelFrame,
  ClientFrame,
  CLIENT_FRAME_TYPES,
  DoneFrame,
  ErrorFrame,
  GoawayFrame,
  HelloFrame,
  isSessionFrame,
  JoinedFrame,
  JoinFrame,
  LeaveFrame,
  Limits,
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
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, parseClientFrame, parseServerFrame } from './codec.js';
export {
  AuthResponse,
  CreateSessionBody,
  ErrorBody,
  LoginBody,
  PostMessageBody,
  RefreshBody,
  RegisterBody,
  SessionDto,
  UpdateSessionBody,
  UserDto,
} from './http.js';
export { SwitchboardClient, SwitchboardError } from './client.js';
export type { ParseResult } from './codec.js';
export type { SessionFrameInput } from './frames.js';
export type { ClientOptions, RunHandle, WebSocketConstructor, WebSocketLike } from './client.js';
