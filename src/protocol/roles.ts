import * as z from "zod/mini";

/** A user's role as normalized from the JWT `role` claim (`service_provider` becomes `provider`). */
export const UserRole = z.enum(["customer", "provider", "admin"]);
export type UserRole = z.infer<typeof UserRole>;

/** The two parties of a booking; chat tokens exist only for these. */
export const PartyRole = z.enum(["customer", "provider"]);
export type PartyRole = z.infer<typeof PartyRole>;

/** Role claim values accepted in a JWT, mapped to the normalized role. */
export const JwtRoleClaim = z.pipe(
  z.enum(["customer", "service_provider", "provider", "admin"]),
  z.transform((role): UserRole => (role === "service_provider" ? "provider" : role)),
);
