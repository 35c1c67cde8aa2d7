import { describe, expect, it } from "vitest";
import { generateChatToken, type IssuedToken, verifyChatToken } from "../../src/auth/chat-token";
import type { PartyRole } from "../../src/protocol";

const SECRET = "unit-test-chat-token-secret-0123456789";
const at = "2026-11-28T10:00:00.000Z";
const customerToken = generateChatToken(SECRET, "b1", "alice", "customer", at);
const providerToken = generateChatToken(SECRET, "b1", "bob", "provider", at);
const issued: Record<PartyRole, IssuedToken> = {
  customer: { role: "customer", userId: "alice", token: customerToken },
  provider: { role: "provider", userId: "bob", token: providerToken },
};

describe("chat token verification", () => {
  it("grants a token's role only to the user it was issued to", () => {
    expect(verifyChatToken(customerToken, "b1", "alice", issued)).toBe("customer");
    expect(verifyChatToken(providerToken, "b1", "bob", issued)).toBe("provider");
    // The provider holding the customer's token, or a stranger holding either, gets nothing.
    expect(verifyChatToken(customerToken, "b1", "bob", issued)).toBeNull();
    expect(verifyChatToken(providerToken, "b1", "mallory", issued)).toBeNull();
  });

  it("refuses tokens of another booking, altered, truncated or not issued yet", () => {
    expect(verifyChatToken(customerToken, "b2", "alice", issued)).toBeNull();
    expect(verifyChatToken(`${customerToken.slice(0, -1)}x`, "b1", "alice", issued)).toBeNull();
    expect(verifyChatToken(customerToken.slice(0, 12), "b1", "alice", issued)).toBeNull();
    const unissued = { ...issued, provider: { ...issued.provider, token: null } };
    expect(verifyChatToken(providerToken, "b1", "bob", unissued)).toBeNull();
  });
});
