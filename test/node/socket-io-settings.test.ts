import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningService, SeedClient, type Service, settle, userJwt } from "./service";

// Socket.IO with tight settings: Engine.IO's heartbeat on a fast clock (the hub's alarm pings every
// connection each interval, the runtime answers their pongs while the hub hibernates, and the alarm
// closes those that stopped), and one hub holding at most two connections per user.

const INTERVAL_MS = 400;
const TIMEOUT_MS = 400;

let service: Service;

beforeAll(async () => {
  service = await runningService({
    SOCKET_IO_PING_INTERVAL_MS: String(INTERVAL_MS),
    SOCKET_IO_PING_TIMEOUT_MS: String(TIMEOUT_MS),
    SOCKET_IO_HUBS: "1",
    MAX_SOCKETS_PER_USER: "2",
  });
});

afterAll(async () => {
  await service?.stop();
});

describe("the Socket.IO heartbeat", () => {
  it("keeps an idle connection open with a ping each interval, through the hub's eviction", async () => {
    const client = await SeedClient.connect(service.base, await userJwt("customer", "idle"));
    let pings = 0;
    client.socket.io.engine.on("ping", () => pings++);
    let disconnected = "";
    client.socket.on("disconnect", (reason) => {
      disconnected = reason;
    });

    await settle(INTERVAL_MS * 4);
    expect(await service.evict("SocketIoHub", "hub-0")).toBe(true);
    await settle(INTERVAL_MS * 4);

    // socket.io-client gives up after interval + timeout without a ping ("ping timeout").
    expect(disconnected).toBe("");
    expect(client.socket.connected).toBe(true);
    expect(pings).toBeGreaterThanOrEqual(5);
    client.close();
  });

  it("closes a connection that stopped answering pings", async () => {
    const ws = new WebSocket(`${service.base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    ws.addEventListener("message", (e) => frames.push(String(e.data)));
    await new Promise((resolve) => ws.addEventListener("open", resolve));
    // Connects to the default namespace, then never answers a ping.
    ws.send(`40${JSON.stringify({ token: await userJwt("customer", "gone") })}`);

    const started = Date.now();
    expect(await closed).toBe(1001);
    expect(frames.filter((f) => f === "2").length).toBeGreaterThanOrEqual(1);
    expect(frames.some((f) => f.startsWith("40{"))).toBe(true);
    // At the first alarm after interval + timeout: well within three intervals of that.
    expect(Date.now() - started).toBeLessThan(INTERVAL_MS * 3 + TIMEOUT_MS + 2_000);
  });

  it("closes a connection that never connects to the namespace, as Socket.IO's connectTimeout", async () => {
    const ws = new WebSocket(`${service.base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const closed = new Promise<string>((resolve) => ws.addEventListener("close", (e) => resolve(e.reason)));
    // Answers every ping, but never sends the CONNECT packet (with the JWT).
    ws.addEventListener("message", (e) => {
      if (e.data === "2") ws.send("3");
    });
    expect(await closed).toBe("connect timeout");
  });
});

describe("connections per user", () => {
  it("refuses a user's connection beyond MAX_SOCKETS_PER_USER with a connect error, and counts closed ones out", async () => {
    const jwt = await userJwt("customer", "many");
    const first = await SeedClient.connect(service.base, jwt);
    const second = await SeedClient.connect(service.base, jwt);
    const third = new SeedClient(service.base, { token: jwt });
    expect((await third.connectError()).message).toBe("Too many connections: at most 2 per user");
    // Another user, or the same id in another role, is not counted with them.
    const other = await SeedClient.connect(service.base, await userJwt("service_provider", "many"));

    first.close();
    await settle();
    const again = await SeedClient.connect(service.base, jwt);
    expect(again.socket.connected).toBe(true);
    for (const client of [second, third, other, again]) client.close();
  });
});
