import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { locationHintFor } from "../src/placement/location-hint";
import { objects } from "../src/placement/namespaces";

describe("where a new booking room is placed", () => {
  it("near the request that creates it, from request.cf", () => {
    const cases: [unknown, string | undefined][] = [
      [{ continent: "NA", longitude: "-122.42" }, "wnam"],
      [{ continent: "NA", longitude: "-73.99" }, "enam"],
      [{ continent: "NA" }, "enam"],
      [{ continent: "SA", country: "BR" }, "sam"],
      [{ continent: "EU", longitude: "-0.12" }, "weur"],
      [{ continent: "EU", longitude: "21.01" }, "eeur"],
      [{ continent: "AF", country: "ZA" }, "afr"],
      [{ continent: "OC", country: "AU" }, "oc"],
      [{ continent: "AS", country: "JP" }, "apac"],
      [{ continent: "AS", country: "AE" }, "me"],
      [{ continent: "AN" }, undefined],
      [undefined, undefined],
      [{ continent: 7 }, undefined],
      [{ continent: "EU", longitude: "east" }, "weur"],
    ];
    for (const [cf, hint] of cases) expect(locationHintFor(cf, null), JSON.stringify(cf)).toBe(hint);
  });

  it("only inside the EU when the deployment's data must stay there", () => {
    expect(locationHintFor({ continent: "EU", longitude: "2.35" }, "eu")).toBe("weur");
    expect(locationHintFor({ continent: "EU", longitude: "24.9" }, "eu")).toBe("eeur");
    expect(locationHintFor({ continent: "NA", longitude: "-80" }, "eu")).toBeUndefined();
    expect(locationHintFor({ continent: "AS", country: "IN" }, "eu")).toBeUndefined();
  });

  it("asks every namespace for the EU jurisdiction with DATA_JURISDICTION=eu", () => {
    const bindings = [
      "BOOKING_ROOM",
      "USER_INBOX",
      "ADMIN_FEED",
      "SUPPORT_THREAD",
      "SOCKET_IO_HUB",
      "USER_ERASURE",
    ] as const;
    const eu = { ...env, DATA_JURISDICTION: "eu" };
    for (const binding of bindings) {
      expect(objects(env, binding).idFromName("x").toString()).toBe(env[binding].idFromName("x").toString());
      // workerd has no jurisdictions: locally, all that shows is that one was asked for.
      expect(() => objects(eu, binding).idFromName("x"), binding).toThrow(/Jurisdiction/);
    }
  });
});
