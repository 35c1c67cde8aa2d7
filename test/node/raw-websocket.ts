import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/**
 * A WebSocket client written on a bare TCP socket, for what a library will not do: vanish without a
 * close frame (`drop()`), as a phone that loses its network does.
 */
export class RawWebSocket {
  private constructor(private readonly socket: Socket) {}

  static open(url: string, protocols: string[]): Promise<RawWebSocket> {
    const { hostname, port, pathname, search } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          [
            `GET ${pathname}${search} HTTP/1.1`,
            `Host: ${hostname}:${port}`,
            "Upgrade: websocket",
            "Connection: Upgrade",
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
            "Sec-WebSocket-Version: 13",
            `Sec-WebSocket-Protocol: ${protocols.join(", ")}`,
            "",
            "",
          ].join("\r\n"),
        );
      });
      socket.once("error", reject);
      socket.once("data", (data) => {
        const status = data.toString("latin1").split("\r\n")[0] ?? "";
        if (status.includes(" 101 ")) resolve(new RawWebSocket(socket));
        else reject(new Error(`upgrade refused: ${status}`));
      });
    });
  }

  /** A masked text frame, as a client must send. */
  send(text: string): void {
    const payload = Buffer.from(text, "utf8");
    const mask = randomBytes(4);
    const length =
      payload.length < 126
        ? Buffer.from([0x80 | payload.length])
        : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    this.socket.write(Buffer.concat([Buffer.from([0x81]), length, mask, masked]));
  }

  /** Gone, with no close frame: the server sees the connection end abnormally (1006). */
  drop(): void {
    this.socket.destroy();
  }
}
