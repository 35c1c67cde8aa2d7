import * as z from "zod/mini";
import { type ChatClient, ChatClientError, createChatClient } from "../sdk/src";

const Stored = z.object({
  role: z.enum(["customer", "service_provider", "admin"]),
  userId: z.string(),
  token: z.string(),
});
type Stored = z.infer<typeof Stored>;
const JwtClaims = z.object({ exp: z.number() });

export type Role = Stored["role"];
export type Session = Stored & { client: ChatClient };

// sessionStorage: a reload keeps the tab signed in, and each tab can be a different user.
const KEY = "spana-chat.session";

function withClient({ role, userId, token }: Stored): Session {
  return {
    role,
    userId,
    token,
    client: createChatClient({ baseUrl: location.origin, getToken: () => token }),
  };
}

/** Mints a development token; the error says why when the server refuses. */
export async function signIn(role: Role, userId: string): Promise<Session> {
  const anonymous = createChatClient({ baseUrl: location.origin, getToken: () => "" });
  try {
    const { token } = await anonymous.api.devToken({ body: { role, userId } });
    sessionStorage.setItem(KEY, JSON.stringify({ role, userId, token } satisfies Stored));
    return withClient({ role, userId, token });
  } catch (error) {
    if (error instanceof ChatClientError && error.status === 404)
      throw new Error(
        "Development sign-in is disabled on this server (it only works with ENVIRONMENT=development).",
      );
    throw error;
  }
}

/** The session this tab signed in with, unless its token has expired. */
export function restoreSession(): Session | null {
  try {
    const stored = Stored.parse(JSON.parse(sessionStorage.getItem(KEY) ?? "null"));
    const payload = (stored.token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const { exp } = JwtClaims.parse(JSON.parse(atob(payload)));
    return exp * 1000 > Date.now() ? withClient(stored) : null;
  } catch {
    return null;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(KEY);
}
