export { BookingChat } from "./booking-chat";
export { type ChatClient, type ChatClientOptions, createChatClient } from "./client";
export { Feed, Inbox } from "./feeds";
export { ChatClientError } from "./http";
export type { OpenSocket, SocketLike } from "./transport";
