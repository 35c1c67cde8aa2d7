import {
  type AdminMessagesResponse,
  AdminMessagesResponse as AdminMessagesSchema,
  type MyChatsResponse,
  MyChatsResponse as MyChatsSchema,
  type SupportHistoryResponse,
  SupportHistoryResponse as SupportHistorySchema,
  type SupportMessage,
  SupportMessage as SupportMessageSchema,
} from "../protocol";
import { BookingChat, type BookingChatOptions } from "./booking-chat";
import { AdminFeed, Inbox } from "./feeds";
import { type HttpOptions, request } from "./http";
import { type OpenSocket, openWebSocket } from "./transport";

export type ChatClientOptions = {
  /** The service's HTTP base URL, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** Returns the user's current JWT; called on every (re)connect and request, so it may refresh. */
  getToken: () => Promise<string> | string;
  /** Overrides for tests and unusual platforms. */
  fetch?: typeof fetch;
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
  const wsUrl = baseUrl.replace(/^http/, "ws");
  const open = options.openSocket ?? openWebSocket;
  const feed = (path: string) => ({
    url: `${wsUrl}${path}`,
    getToken: http.getToken,
    open,
    heartbeat: options.heartbeat,
  });

  return {
    /** A booking's chat; call `connect()` on it. */
    booking(
      bookingId: string,
      extra: Pick<BookingChatOptions, "chatToken" | "sinceSeq" | "asAdmin"> = {},
    ): BookingChat {
      return new BookingChat({ http, wsUrl, open, bookingId, heartbeat: options.heartbeat, ...extra });
    },
    /** The user's inbox: every event of their bookings, on whatever screen. */
    inbox(): Inbox {
      return new Inbox(feed("/me/ws")).start();
    },
    /** Admins: every message and booking change, live (one socket per feed shard). */
    adminFeed(): AdminFeed {
      return new AdminFeed(http, feed).start();
    },
    /** `GET /chat/my-chats`. */
    async myChats(): Promise<MyChatsResponse> {
      return MyChatsSchema.parse(await request(http, "GET", "/chat/my-chats"));
    },
    support: {
      /** Providers: a message to the admins over HTTP. */
      async send(text: string, clientMessageId: string = crypto.randomUUID()): Promise<SupportMessage> {
        const body = await request(http, "POST", "/chat/support/messages", {
          body: { message: text, clientMessageId },
        });
        return SupportMessageSchema.parse((body as { message: unknown }).message);
      },
      /** Admins: a reply in a provider's thread. */
      async reply(
        providerId: string,
        text: string,
        clientMessageId: string = crypto.randomUUID(),
      ): Promise<SupportMessage> {
        const path = `/chat/support/${providerId}/messages`;
        const body = await request(http, "POST", path, { body: { message: text, clientMessageId } });
        return SupportMessageSchema.parse((body as { message: unknown }).message);
      },
      async history(
        providerId: string,
        page: { before?: number; limit?: number } = {},
      ): Promise<SupportHistoryResponse> {
        const query = new URLSearchParams();
        for (const [key, value] of Object.entries(page))
          if (value !== undefined) query.set(key, String(value));
        return SupportHistorySchema.parse(await request(http, "GET", `/chat/support/${providerId}?${query}`));
      },
    },
    /** Admins: search every message. */
    async adminMessages(query: Record<string, string | number> = {}): Promise<AdminMessagesResponse> {
      const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
      return AdminMessagesSchema.parse(await request(http, "GET", `/chat/admin/messages?${params}`));
    },
    /** Any other call, with the user's JWT: `request("POST", "/bookings", { body })`. */
    request: (method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }) =>
      request(http, method, path, init),
  };
}

export type ChatClient = ReturnType<typeof createChatClient>;
