import type { PartyRole, ServerEvent } from "../protocol";

/** Who a lifecycle event goes to. Token-bearing events only ever go to their holder. */
export type Audience = PartyRole | "admins" | "everyone";

/** A lifecycle event and its audience. */
export type Notice = { to: Audience[]; event: ServerEvent };

/** Whether a party (or, with "admins", an admin) is in the audience. */
export function reaches(to: readonly Audience[], who: PartyRole | "admins"): boolean {
  return to.includes("everyone") || to.includes(who);
}
