import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = new URL("../../src", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("rules the code keeps", () => {
  it("reaches every Durable Object through objects(), so DATA_JURISDICTION covers them all", () => {
    const direct =
      /\b(BOOKING_ROOM|USER_INBOX|ADMIN_FEED|SUPPORT_THREAD|SOCKET_IO_HUB|USER_ERASURE)\.(get|idFromName|idFromString|newUniqueId|getByName)\(/;
    const offenders = sources(SRC)
      .filter((file) => !file.endsWith(path.join("placement", "namespaces.ts")))
      .filter((file) => direct.test(readFileSync(file, "utf8")))
      .map((file) => path.relative(SRC, file));
    expect(offenders).toEqual([]);
  });
});
