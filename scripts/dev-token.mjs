#!/usr/bin/env node
// Prints a development JWT: npm run token -- <customer|service_provider|provider|admin> <userId> [ttl]
// Signs with JWT_SECRET from .dev.vars (or the environment), so it only works against a local server.
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

const ROLES = ["customer", "service_provider", "provider", "admin"];
const [role, userId, ttl = "12h"] = process.argv.slice(2);

if (!ROLES.includes(role ?? "") || !userId || userId.includes("_")) {
  console.error(`usage: npm run token -- <${ROLES.join("|")}> <userId without "_"> [ttl, e.g. 12h]`);
  process.exit(2);
}

function devVar(name) {
  if (process.env[name]) return process.env[name];
  const file = new URL("../.dev.vars", import.meta.url);
  const line = readFileSync(file, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} is not set in the environment or .dev.vars`);
  return line.slice(name.length + 1).replace(/^"|"$/g, "");
}

const jwt = await new SignJWT({ role })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime(ttl)
  .sign(new TextEncoder().encode(devVar("JWT_SECRET")));
console.log(jwt);
