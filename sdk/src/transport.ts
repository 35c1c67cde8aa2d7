/** The few socket operations the client needs; browsers, Node >= 22, Deno, Bun and React Native provide them. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
}

/** Opens a socket to `url` offering `protocols`; resolves once it is open. */
export type OpenSocket = (url: string, protocols: string[]) => Promise<SocketLike>;

/** A WebSocket class: the platform's, or one passed in (e.g. the `ws` package's on Node 20). */
export type WebSocketConstructor = new (
  url: string,
  protocols: string[],
) => SocketLike & {
  addEventListener(type: "open" | "error", listener: () => void): void;
  removeEventListener(type: "error", listener: () => void): void;
};

export const NO_WEBSOCKET_MESSAGE =
  "spana-chat: this runtime has no WebSocket (Node.js before 22, or a platform without one). " +
  "Pass an implementation: createChatClient({ ..., WebSocket }) (for example the `ws` package's).";

/** Thrown at once by anything that needs a socket when there is no WebSocket to open one with. */
export class NoWebSocketError extends Error {
  constructor() {
    super(NO_WEBSOCKET_MESSAGE);
    this.name = "NoWebSocketError";
  }
}

/** An opener over a WebSocket class; null when there is none. */
export function webSocketOpener(Impl: WebSocketConstructor | undefined): OpenSocket | null {
  if (!Impl) return null;
  return (url, protocols) =>
    new Promise((resolve, reject) => {
      const ws = new Impl(url, protocols);
      const fail = () => reject(new Error(`could not connect to ${url}`));
      ws.addEventListener("open", () => {
        ws.removeEventListener("error", fail);
        resolve(ws);
      });
      ws.addEventListener("error", fail);
    });
}

/** The platform's WebSocket, if it has one. */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
