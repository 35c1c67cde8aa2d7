import type { AdminMessagesQuery, MyChatsResponse, SupportMessage } from "../../src/protocol";
import { createApi } from "./api";
import { BookingChat, type BookingChatOptions } from "./booking-chat";
import { AdminFeed, Inbox } from "./feeds";
import { type HttpOptions, request } from "./http";
import { randomId } from "./random-id";
import {
  NoWebSocketError,
  type OpenSocket,
  platformWebSocket,
  type WebSocketConstructor,
  webSocketOpener,
} from "./transport";

export type ChatClientOptions = {
  /** The service's HTTP base URL, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** Returns the user's current JWT; called on every (re)connect and request, so it may refresh. */
  getToken: () => Promise<string> | string;
  /**
   * The WebSocket class to connect with, where the platform has none (Node.js before 22: pass
   * the `ws` package's). Without one, anything that needs a socket throws NoWebSocketError at once.
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Only HTTP calls (a backend confirming payments, say): no WebSocket is needed, and booking
   * chats and feeds cannot connect. Otherwise, with no WebSocket to be found, createChatClient
   * throws NoWebSocketError before any request is made.
   */
  httpOnly?: boolean;
  /** The fetch to call the HTTP API with (the platform's by default). */
  fetch?: typeof fetch;
  /** Overrides how sockets are opened (tests, unusual platforms). */
  openSocket?: OpenSocket;
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

/** The spana-chat client. Everything it sends and receives is typed by the service's own schemas. */
export function createChatClient(options: ChatClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/$/, "");
  const http: HttpOptions = {
    baseUrl,
    getToken: async () => options.getToken(),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
  };
  const api = createApi(http);
  const wsUrl = baseUrl.replace(/^http/, "ws");
  const open = options.httpOnly
    ? null
    : (options.openSocket ?? webSocketOpener(options.WebSocket ?? platformWebSocket()));
  // Fail here, not after the app has created a booking it then cannot chat in.
  if (!open && !options.httpOnly) throw new NoWebSocketError();
  const feed = (path: string) => ({
    url: `${wsUrl}${path}`,
    getToken: http.getToken,
    open,
    heartbeat: options.heartbeat,
  });

  return {
    /**
     * Every HTTP route as a typed call, named as in the protocol's route table:
     * `api.createBooking({ body: { providerId } })`, `api.acceptBooking({ params: { id } })`,
     * `api.history({ params: { id }, chatToken, query: { before } })` (`chatToken` where the route
     * takes `X-Chat-Token`; admins leave it out). Replies are parsed with the service's
     * schemas; refusals throw ChatClientError with the service's error code.
     */
    api,
    /** A booking's chat; `connect()` starts it, as for every feed. */
    booking(
      bookingId: string,
      extra: Pick<BookingChatOptions, "chatToken" | "sinceSeq" | "asAdmin"> = {},
    ): BookingChat {
      return new BookingChat({ http, wsUrl, open, bookingId, heartbeat: options.heartbeat, ...extra });
    },
    /** The user's inbox: every event of their bookings, on whatever screen; `connect()` starts it. */
    inbox(): Inbox {
      return new Inbox(feed("/me/ws"));
    },
    /** Admins: every message and booking change, live (one socket per feed shard); `connect()` starts it. */
    adminFeed(): AdminFeed {
      return new AdminFeed(http, feed);
    },
    /** `GET /chat/my-chats`. */
    myChats(): Promise<MyChatsResponse> {
      return api.myChats();
    },
    support: {
      /** Providers: a message to the admins over HTTP. */
      async send(text: string, clientMessageId = randomId()): Promise<SupportMessage> {
        return (await api.supportSend({ body: { message: text, clientMessageId } })).message;
      },
      /** Admins: a reply in a provider's thread. */
      async reply(providerId: string, text: string, clientMessageId = randomId()): Promise<SupportMessage> {
        const body = { message: text, clientMessageId };
        return (await api.supportReply({ params: { providerId }, body })).message;
      },
      history(providerId: string, page: { before?: number; limit?: number } = {}) {
        return api.supportHistory({ params: { providerId }, query: page });
      },
    },
    /** Admins: search every message. */
    adminMessages(query: Partial<AdminMessagesQuery> = {}) {
      return api.adminMessages({ query });
    },
    /** Any call by method and path, with the user's JWT; its JSON body, unparsed. Prefer `api`. */
    request: (method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }) =>
      request(http, method, path, init),
  };
}

export type ChatClient = ReturnType<typeof createChatClient>;
