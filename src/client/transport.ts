/** The few socket operations the client needs; browsers, Node >= 22 and workerd all provide them. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
}

/** Opens a socket to `url` offering `protocols`; resolves once it is open. */
export type OpenSocket = (url: string, protocols: string[]) => Promise<SocketLike>;

/** The platform's WebSocket (browsers, Node >= 22). */
export const openWebSocket: OpenSocket = (url, protocols) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const fail = () => reject(new Error(`could not connect to ${url}`));
    ws.addEventListener("open", () => {
      ws.removeEventListener("error", fail);
      resolve(ws);
    });
    ws.addEventListener("error", fail);
  });
