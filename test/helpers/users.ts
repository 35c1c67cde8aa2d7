import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import type { UserRole } from "../../src/protocol";

export type TestUser = { id: string; role: UserRole; jwt: string };

type JwtOptions = { expiresIn?: string | number; claimRole?: string; secret?: string };

/** Signs a user JWT the way the identity provider would (HS256, `sub`, `role`, `exp`). */
export async function signUserJwt(userId: string, role: string, options: JwtOptions = {}): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "1h")
    .sign(new TextEncoder().encode(options.secret ?? env.JWT_SECRET));
}

async function user(role: UserRole, claimRole: string = role): Promise<TestUser> {
  const id = `${role}-${crypto.randomUUID()}`;
  return { id, role, jwt: await signUserJwt(id, claimRole) };
}

export const newCustomer = () => user("customer");
/** Providers carry the seed's `service_provider` claim; `provider` is accepted as an alias. */
export const newProvider = () => user("provider", "service_provider");
export const newAdmin = () => user("admin");
