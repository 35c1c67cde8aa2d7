import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { z } from "zod";
import { startService } from "../../scripts/bench/runtime.mjs";
import { AcceptResponse, BookingResponse, ChatTokenResponse, serverEventData } from "../../src/protocol";

/**
 * The running service for tests that use real client libraries from Node: the built Worker
 * (`npm run build` into dist/) on local workerd, with wrangler.toml's bindings and .dev.vars,
 * on a loopback port of its own; `vars` override wrangler.toml's.
 */
export async function runningService(vars: Record<string, string> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), "spana-node-tests-"));
  const service = await startService({ stateDir, vars });
  return {
    base: service.http,
    /** The runtime's resident and peak memory, in MiB. */
    memory: (): { rssMiB: number; peakMiB: number } => service.memory(),
    /**
     * Evicts an object from memory, as the runtime does to an idle one; its WebSockets hibernate
     * (stay open) unless `close`. False when it was not in memory.
     */
    async evict(className: string, name: string, webSockets: "hibernate" | "close" = "hibernate") {
      try {
        await service.mf.unsafeEvictDurableObject("spana-chat", className, { name, webSockets });
        return true;
      } catch (error) {
        if (String(error).includes("not currently running")) return false;
        throw error;
      }
    },
    async stop() {
      await service.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
export type Service = Awaited<ReturnType<typeof runningService>>;

const DEV_VARS = readFileSync(new URL("../../.dev.vars", import.meta.url), "utf8");
const JWT_SECRET = new TextEncoder().encode(/^JWT_SECRET="?([^"\n]+)"?/m.exec(DEV_VARS)?.[1] ?? "");

export type Role = "customer" | "service_provider" | "admin";

export function userJwt(role: Role, userId: string, expiresIn = "1h"): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setExpirationTime(expiresIn)
    .sign(JWT_SECRET);
}

let counter = 0;
/** A fresh user id for this run (ids may not contain `_`). */
export const uniqueId = (name: string) => `${name}-${Date.now().toString(36)}-${++counter}`;

/** An HTTP call as `jwt` that must answer `status`; its body, parsed with the protocol's `schema`. */
export async function call<T extends z.core.$ZodType>(
  base: string,
  method: string,
  path: string,
  jwt: string,
  expect: { status: number; schema: T; body?: unknown },
): Promise<z.output<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${jwt}`, "Content-Type": "application/json" },
    body: expect.body === undefined ? undefined : JSON.stringify(expect.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== expect.status) {
    throw new Error(`${method} ${path}: expected ${expect.status}, got ${res.status} ${text.slice(0, 300)}`);
  }
  return z.parse(expect.schema, JSON.parse(text));
}

type ServerEvent = keyof typeof serverEventData;
type Heard = { event: string; data: unknown };

/**
 * A `socket.io-client` connection as an app of the old system opens it (the one option it changes:
 * `transports: ["websocket"]`), recording every event it hears.
 */
export class SeedClient {
  readonly heard: Heard[] = [];
  readonly socket: Socket;

  constructor(
    base: string,
    auth: { token: string } | ((cb: (data: object) => void) => void),
    reconnect = false,
  ) {
    this.socket = io(base, {
      transports: ["websocket"],
      auth,
      reconnection: reconnect,
      reconnectionDelay: 100,
      reconnectionDelayMax: 200,
      forceNew: true,
    });
    this.socket.onAny((event: string, data: unknown) => this.heard.push({ event, data }));
  }

  static async connect(base: string, jwt: string): Promise<SeedClient> {
    const client = new SeedClient(base, { token: jwt });
    await client.connected();
    return client;
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once("connect", () => resolve());
      this.socket.once("connect_error", (error) => reject(error));
    });
  }

  /** The refusal the server answered the connection with. */
  connectError(): Promise<Error> {
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => reject(new Error("connected, expected a refusal")));
      this.socket.once("connect_error", (error) => resolve(error));
    });
  }

  /** `socket.emit(event, data, ack)`: resolves with what the server acknowledged. */
  emitWithAck(event: string, data: unknown): Promise<unknown> {
    return this.socket.timeout(10_000).emitWithAck(event, data);
  }

  /** The first event `event` (already heard or still to come) whose data `match` accepts, parsed. */
  async next<E extends ServerEvent>(
    event: E,
    match: (data: z.infer<(typeof serverEventData)[E]>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<z.infer<(typeof serverEventData)[E]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.all(event).find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        const events = this.heard.map((h) => h.event).join(", ");
        throw new Error(`no ${event} within ${timeoutMs} ms; heard: ${events || "nothing"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every `event` heard so far, each parsed with the protocol's schema (a mismatch fails). */
  all<E extends ServerEvent>(event: E): z.infer<(typeof serverEventData)[E]>[] {
    return this.heard
      .filter((h) => h.event === event)
      .map((h) => serverEventData[event].parse(h.data) as z.infer<(typeof serverEventData)[E]>);
  }

  /** The raw payloads of `event`, exactly as received (to check fields that must be absent). */
  raw(event: string): unknown[] {
    return this.heard.filter((h) => h.event === event).map((h) => h.data);
  }

  close(): void {
    this.socket.close();
  }
}

/** Lets in-flight events arrive, to check that something did not. */
export const settle = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));

/** A booking through the real HTTP flow up to an active chat: both parties' JWTs, ids and chat tokens. */
export async function activeChat(base: string) {
  const customerId = uniqueId("alice");
  const providerId = uniqueId("bob");
  const customer = await userJwt("customer", customerId);
  const provider = await userJwt("service_provider", providerId);
  const admin = await userJwt("admin", "payments");
  const { booking } = await call(base, "POST", "/bookings", customer, {
    status: 201,
    schema: BookingResponse,
    body: { providerId },
  });
  await call(base, "POST", `/bookings/${booking.id}/payment`, admin, {
    status: 200,
    schema: BookingResponse,
  });
  const accepted = await call(base, "POST", `/bookings/${booking.id}/accept`, provider, {
    status: 200,
    schema: AcceptResponse,
  });
  const token = await call(base, "GET", `/chat/booking/${booking.id}/token`, customer, {
    status: 200,
    schema: ChatTokenResponse,
  });
  return {
    bookingId: booking.id,
    customerId,
    providerId,
    customer,
    provider,
    customerToken: token.chatToken,
    providerToken: accepted.chatToken,
  };
}

export type ActiveChat = Awaited<ReturnType<typeof activeChat>>;
