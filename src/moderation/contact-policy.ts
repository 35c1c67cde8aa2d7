import { findContacts, maskContacts } from "./contact-guard";

/** `CONTACT_POLICY`: let contact details through, list them for admins, or also hide them from the other party. */
export type ContactPolicy = "off" | "flag" | "mask";

/** What a message records under a policy: the kinds of contact details found, and the text the other party reads. */
export type ContactFindings = { contacts: string[] | null; maskedContent: string | null };

const NOTHING: ContactFindings = { contacts: null, maskedContent: null };

/**
 * The contact guard applied to a message's text under `policy`: `off` looks at nothing; `flag`
 * records the kinds found (admins list them); `mask` also records the text with each match
 * replaced by `[hidden]`, which the other party reads instead.
 */
export function applyContactPolicy(text: string, policy: ContactPolicy): ContactFindings {
  if (policy === "off") return NOTHING;
  const found = findContacts(text);
  if (found.length === 0) return NOTHING;
  const contacts = [...new Set(found.map((m) => m.kind))];
  return { contacts, maskedContent: policy === "mask" ? maskContacts(text, found) : null };
}
