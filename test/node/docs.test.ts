import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config";

// The README's configuration table against what the Worker reads and what wrangler.toml binds.

const ROOT = new URL("../..", import.meta.url).pathname;
const readme = readFileSync(`${ROOT}README.md`, "utf8");
const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Deploy"));
const rows = table.split("\n").filter((line) => line.startsWith("| `"));
const rowOf = (name: string) => rows.find((row) => row.split("|")[1]?.includes(`\`${name}\``));

describe("the README's configuration table", () => {
  it("lists every variable the Worker reads, with its default", () => {
    for (const [name, schema] of Object.entries(ConfigSchema.shape)) {
      const row = rowOf(name);
      expect(row, name).toBeDefined();
      const fallback = schema.safeParse(undefined);
      if (fallback.success && typeof fallback.data === "number")
        expect(row?.split("|")[3], `${name}'s default`).toContain(String(fallback.data));
    }
  });

  it("lists every binding in wrangler.toml", () => {
    const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8");
    const bindings = [...toml.matchAll(/^(?:name|binding) = "([A-Z_]+)"/gm)].map((m) => m[1] ?? "");
    expect(bindings.length).toBeGreaterThan(5);
    for (const name of bindings) expect(rowOf(name), name).toBeDefined();
  });
});

describe("what a deployment serves", () => {
  it("has no try-it page and no source map unless asked for: a favicon and robots.txt only", () => {
    // `npm run build` (run before these tests) runs wrangler.toml's [build] as every deploy does.
    expect(existsSync(`${ROOT}public/favicon.svg`)).toBe(true);
    expect(readFileSync(`${ROOT}public/robots.txt`, "utf8")).toContain("Disallow: /");
    for (const file of ["index.html", "app.js", "app.js.map", "spana-chat-client.js"]) {
      expect(existsSync(`${ROOT}public/${file}`), file).toBe(false);
    }
  });
});
