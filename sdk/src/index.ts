export type {
  Booking,
  ChatSummary,
  ErrorCode,
  HttpRouteName,
  Message,
  Metadata,
  ServerEvent,
  ServerEventName,
  ServerEventPayload,
  SupportMessage,
} from "../../src/protocol";
export type { Api, CallArgs, CallResult } from "./api";
export { BookingChat } from "./booking-chat";
export { type ChatClient, type ChatClientOptions, createChatClient } from "./client";
export { AdminFeed, Feed, Inbox } from "./feeds";
export { ChatClientError } from "./http";
export {
  NO_WEBSOCKET_MESSAGE,
  NoWebSocketError,
  type OpenSocket,
  type SocketLike,
  type WebSocketConstructor,
} from "./transport";
