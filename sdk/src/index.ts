export type {
  AttachmentRef,
  Booking,
  ChatSummary,
  ErrorCode,
  HttpRouteName,
  Message,
  Metadata,
  Notification,
  ServerEvent,
  ServerEventName,
  ServerEventPayload,
  SupportMessage,
} from "../../src/protocol";
export type { Api, CallArgs, CallResult } from "./api";
export { BookingChat } from "./booking-chat";
export { type ChatClient, type ChatClientOptions, createChatClient } from "./client";
export { AdminFeed, Feed, Inbox } from "./feeds";
export { ChatClientError, type FileBody } from "./http";
export type { ChatStatus } from "./status";
export {
  NO_WEBSOCKET_MESSAGE,
  NoWebSocketError,
  type OpenSocket,
  type SocketLike,
  type WebSocketConstructor,
} from "./transport";
