import type { ServerEventName } from "../protocol";
import type { Accepts } from "../protocol/fast-check";
import type { Outcome } from "./command";

/** A command's one-pass check by name (protocol/fast-check.ts), if it has one. */
export type CommandChecks = (name: string) => Accepts | undefined;

/** What a connection said, decoded by its transport. */
export type Incoming =
  /** `checked`: the data already passed its command's schema (a fast path did it while decoding). */
  | { kind: "command"; name: string; data: unknown; ackId?: number; checked?: true }
  | { kind: "login"; nsp: string; auth: unknown }
  | { kind: "ping" }
  | { kind: "disconnect" }
  | { kind: "ignored" }
  | { kind: "invalid"; reason: string; ackId?: number };

/**
 * How one wire protocol frames what a socket object says and hears: our JSON envelope
 * (native.ts), or Engine.IO/Socket.IO packets (socket-io/transport.ts). Objects never frame
 * anything themselves; they speak in commands, outcomes and server events.
 */
export interface Transport {
  readonly name: "native" | "socket.io";
  /** The frame the runtime answers by itself, without waking the object, and its answer. */
  readonly autoResponse: readonly [request: string, response: string];
  /** Whether a connection is anonymous until it logs in on the socket (Socket.IO's CONNECT). */
  readonly logsInInBand: boolean;
  /** `accepts`: the one-pass checks of the object's commands, for a transport that can use them. */
  decode(raw: string | ArrayBuffer, maxFrameBytes: number, accepts?: CommandChecks): Incoming;
  /** A server event as this transport's frame; `data` is JSON. */
  event(event: ServerEventName, data: string): string;
  /** The frames answering a command: its events, then the acknowledgement where the peer asked for one. */
  answer(outcome: Outcome, ackId: number | undefined): string[];
  /** The answer to a ping the runtime did not answer itself. */
  readonly pong: string | null;
  /** Frames sent before closing a connection whose JWT expired (Socket.IO's disconnect packet). */
  readonly goodbye: string[];
}
