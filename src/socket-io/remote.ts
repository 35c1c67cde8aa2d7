import type { UserRole } from "../protocol";

/** A Socket.IO connection, as the hub that holds it presents it to a booking room. */
export type RemoteClient = {
  /** Names the connection for its rate limits. */
  connectionId: string;
  userId: string;
  role: UserRole;
  jwtExpiresAt: number;
  /** The hub holding it, which the room then sends the booking's messages to. */
  hub: number;
};

/** What the room answers a Socket.IO event with: events for that connection, and the reply to its ack. */
export type RemoteReply = {
  emits: { event: string; data: string }[];
  ack: string;
  /** After a join: the booking's last seq then, which the join's replay and live messages meet at. */
  joinedAtSeq?: number;
};
