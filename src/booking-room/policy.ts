import { type Refusal, refusal } from "../errors";
import type { ClientEventName, PartyRole, UserRole } from "../protocol";
import { type BookingRecord, holdsChatToken, partyOf } from "./booking-store";

/**
 * Who sends a command to a booking room, whatever carried it: a socket of the room's own, or a
 * Socket.IO connection whose hub forwards it (`hub`). `joined` is the connection's state as its
 * holder keeps it.
 */
export type Caller = {
  connectionId: string;
  userId: string;
  role: UserRole;
  jwtExpiresAt: number;
  joined: boolean;
  /** The Socket.IO hub that holds the connection, when it is not a socket of the room's own. */
  hub?: number;
};

/** Who may send a command: the booking's parties, and whether admins too (who only ever watch). */
type Rule = {
  /** Admins may send it (joining, to watch). */
  admins: boolean;
  /** The connection must have joined the booking first. */
  joined: boolean;
  /** A party must present its own chat token with it. */
  token: boolean;
  /** What an admin is told when the command is not an admin's, and what anyone else who is no party is told. */
  refuse: { admin: string; other: string };
};

const NOT_A_PARTY = "Not a participant of this booking";
const PARTIES_SEND = "Only the booking's customer and provider can send messages";

/**
 * Who may do what in a booking's chat, in one place, for every transport. Chat state (terminated,
 * not active yet) and content are the commands' own business; this is only who.
 */
export const POLICY: Record<ClientEventName, Rule> = {
  "join-booking": {
    admins: true,
    joined: false,
    token: true,
    refuse: { admin: NOT_A_PARTY, other: NOT_A_PARTY },
  },
  "booking-chat": {
    admins: false,
    joined: true,
    token: true,
    refuse: { admin: PARTIES_SEND, other: PARTIES_SEND },
  },
  "mark-read": {
    admins: false,
    joined: true,
    token: false,
    refuse: { admin: "Admins can watch but their reading marks nothing", other: NOT_A_PARTY },
  },
  typing: {
    admins: false,
    joined: true,
    token: false,
    refuse: { admin: "Admins can watch but do not type", other: NOT_A_PARTY },
  },
};

/**
 * The chat token each connection last proved, with the booking's version then: a party's later
 * commands presenting the same token skip the check until the booking changes (a lifecycle step,
 * which may close the chat or issue tokens). A cache, so it may be lost with the object.
 */
export class VerifiedTokens {
  private readonly byConnection = new Map<string, { token: string; version: number }>();

  holds(booking: BookingRecord, caller: Caller, presented: string | undefined): boolean {
    const known = this.byConnection.get(caller.connectionId);
    // The connection itself proved this exact token; comparing against its own proof leaks nothing.
    if (known && presented === known.token && known.version === booking.version) return true;
    const holds = holdsChatToken(booking, caller, presented);
    if (holds && presented !== undefined)
      this.byConnection.set(caller.connectionId, { token: presented, version: booking.version });
    return holds;
  }

  forget(connectionId: string): void {
    this.byConnection.delete(connectionId);
  }
}

const OTHER_BOOKING = "Booking not found on this connection; connect to /bookings/{bookingId}/ws";

/**
 * Whether `caller` may send `event` for `data.bookingId` to this booking: the party it acts as
 * (null for an admin), or the refusal.
 */
export function authorize(
  event: ClientEventName,
  caller: Caller,
  booking: BookingRecord | null,
  data: { bookingId: string; chatToken?: string; clientMessageId?: string },
  verified?: VerifiedTokens,
): { party: PartyRole | null } | Refusal {
  const rule = POLICY[event];
  const extras = data.clientMessageId ? { clientMessageId: data.clientMessageId } : {};
  if (!booking) return refusal("booking_not_found", "Booking not found", extras);
  if (data.bookingId !== booking.id) return refusal("booking_not_found", OTHER_BOOKING, extras);
  if (rule.joined && !caller.joined) {
    return refusal("not_joined", `Join the booking before ${JOINED_FOR[event]}`, extras);
  }
  const party = partyOf(booking, caller);
  if (party === null) {
    if (caller.role === "admin" && rule.admins) return { party: null };
    return refusal("not_authorized", caller.role === "admin" ? rule.refuse.admin : rule.refuse.other, extras);
  }
  const holds = () =>
    verified
      ? verified.holds(booking, caller, data.chatToken)
      : holdsChatToken(booking, caller, data.chatToken);
  if (rule.token && !holds()) {
    return refusal("invalid_token", "Invalid chat token", extras);
  }
  return { party };
}

/**
 * `authorize` for a command only a party can carry out (it stores, reads or types as a party):
 * the booking and the party. The policy gives such a command to no admin, so an admin here is a
 * fault in the policy table, not a refusal.
 */
export function authorizeParty(
  event: ClientEventName,
  caller: Caller,
  booking: BookingRecord | null,
  data: { bookingId: string; chatToken?: string; clientMessageId?: string },
  verified?: VerifiedTokens,
): { booking: BookingRecord; party: PartyRole } | Refusal {
  const allowed = authorize(event, caller, booking, data, verified);
  if ("code" in allowed) return allowed;
  if (!booking || allowed.party === null) throw new Error(`${event} is a party's command, not an admin's`);
  return { booking, party: allowed.party };
}

const JOINED_FOR: Record<ClientEventName, string> = {
  "join-booking": "joining",
  "booking-chat": "sending messages",
  "mark-read": "marking messages read",
  typing: "typing",
};
