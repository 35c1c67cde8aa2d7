import { Hono } from "hono";
import type { AppEnv } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { getConfig } from "../config";
import { sioHubStub } from "../delivery/targets";
import { HUB_HEADER } from "../socket-io/hub";

/**
 * `/socket.io/`: Socket.IO v4 for the seed's apps, over the WebSocket transport only (Engine.IO 4).
 * The JWT arrives in Socket.IO's CONNECT packet, after the upgrade, so the hub checks it.
 */
export const socketIoRoutes = new Hono<AppEnv>();

socketIoRoutes.all("/socket.io/", requireAllowedOrigin, async (c) => {
  const transport = c.req.query("transport");
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  if (c.req.query("EIO") !== "4" || transport !== "websocket" || !upgrade) {
    // Engine.IO's error shape, with a message that says what to change.
    return c.json(
      {
        code: 3,
        message:
          'This server speaks Socket.IO v4 over WebSocket only: pass { transports: ["websocket"] } to io() (long-polling is not served)',
      },
      400,
    );
  }
  const hub = Math.floor(Math.random() * getConfig(c.env).socketIoHubs);
  // The hub gets the handshake and its own index, nothing else of the request.
  const headers = new Headers({ Upgrade: "websocket", [HUB_HEADER]: String(hub) });
  for (const name of ["Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"]) {
    const value = c.req.header(name);
    if (value) headers.set(name, value);
  }
  return sioHubStub(c.env, hub).fetch(new Request(c.req.url, { headers }));
});
