import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRoutes, socketRoutes } from "../../src/protocol";
import { runningService, type Service } from "./service";

// The SDK as an app gets it: `npm pack` of sdk/ (built by `npm run build:sdk`), installed into a
// scratch project, used from Node against the running service.

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let service: Service;
let app: string;
/** The packed SDK, as `npm pack` in sdk/ makes it (its `prepack` builds it first). */
let packed: string;
let tarball: string;

beforeAll(async () => {
  service = await runningService();
  app = mkdtempSync(join(tmpdir(), "spana-sdk-app-"));
  packed = mkdtempSync(join(tmpdir(), "spana-sdk-pack-"));
  await run("npm", ["pack", "--pack-destination", packed, "--loglevel=error"], { cwd: join(ROOT, "sdk") });
  const file = readdirSync(packed).find((f) => f.endsWith(".tgz"));
  if (!file) throw new Error("npm pack made no tarball");
  tarball = join(packed, file);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "an-app", private: true, type: "module" }));
  // zod comes from npm's cache, which the repository's own install filled.
  await run("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
  if (packed) rmSync(packed, { recursive: true, force: true });
});

const node = (file: string, env: Record<string, string> = {}) =>
  run(process.execPath, [file], { cwd: app, env: { ...process.env, ...env }, timeout: 20_000 });

describe("the SDK package, installed from its tarball", () => {
  it("runs the README's example against the service", async () => {
    const example = readFileSync(join(ROOT, "sdk/examples/quickstart.mjs"), "utf8");
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain(example.trim());
    writeFileSync(join(app, "quickstart.mjs"), example);
    const { stdout } = await node("quickstart.mjs", { SPANA_URL: service.base });
    expect(stdout.trim()).toBe("#1 customer: Hi, when can you come?");
  });

  it("sends without crypto.randomUUID, as on React Native's Hermes", async () => {
    writeFileSync(
      join(app, "hermes-like.mjs"),
      `Object.defineProperty(Crypto.prototype, "randomUUID", { value: undefined });
if (typeof crypto.randomUUID !== "undefined") throw new Error("randomUUID is still there");
await import("./quickstart.mjs");`,
    );
    const { stdout } = await node("hermes-like.mjs", { SPANA_URL: service.base });
    expect(stdout.trim()).toBe("#1 customer: Hi, when can you come?");
  });

  it("ships types that check the calls' parameters and type their replies", async () => {
    writeFileSync(
      join(app, "check.ts"),
      `import { createChatClient, type Message, NoWebSocketError } from "@spana/chat-client";
const client = createChatClient({ baseUrl: "http://localhost:8787", getToken: () => "jwt" });
export async function check(): Promise<[string, Message | undefined, boolean]> {
  const accepted = await client.api.acceptBooking({ params: { id: "b" } });
  const page = await client.api.history({ params: { id: "b" }, query: { before: 10 } });
  await client.api.health();
  // @ts-expect-error the booking id is required
  await client.api.getBooking({});
  // @ts-expect-error providerId is required
  await client.api.createBooking({ body: {} });
  // @ts-expect-error a reply is typed, not any
  const wrong: number = accepted.chatToken;
  return [accepted.chatToken, page.messages[0], wrong === 0 || new Error() instanceof NoWebSocketError];
}
`,
    );
    writeFileSync(
      join(app, "check-browser.ts"),
      `import { createChatClient } from "@spana/chat-client/browser";
// @ts-expect-error the browser bundle is typed too: getToken is required
createChatClient({ baseUrl: "https://chat.example" });
`,
    );
    // Every resolution an app may use, with skipLibCheck as most apps have it: a type that fell back
    // to \`any\` would make each @ts-expect-error above unused, which tsc reports.
    for (const resolution of [
      ["--module", "esnext", "--moduleResolution", "bundler"],
      ["--module", "nodenext", "--moduleResolution", "nodenext"],
      ["--module", "node16", "--moduleResolution", "node16"],
    ]) {
      const flags = [
        "--noEmit",
        "--strict",
        "--skipLibCheck",
        ...resolution,
        "--target",
        "es2022",
        "--lib",
        "es2022,dom",
      ];
      await run(process.execPath, [TSC, ...flags, "check.ts", "check-browser.ts"], { cwd: app });
    }
  });

  it("reports a consumer's type errors under nodenext, where the old declarations made everything any", async () => {
    writeFileSync(
      join(app, "wrong.ts"),
      `import { createChatClient } from "@spana/chat-client";
const x: ReturnType<typeof createChatClient> = 42;
export default x;
`,
    );
    const flags = [
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
    ];
    const failed = await run(process.execPath, [TSC, ...flags, "wrong.ts"], { cwd: app }).then(
      () => null,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failed).toContain("wrong.ts(2,7): error TS2322");
  });

  it("passes @arethetypeswrong/cli and publint as packed", async () => {
    // ESM only, by design: CommonJS apps import() it.
    await run(join(ROOT, "node_modules/.bin/attw"), [tarball, "--profile", "esm-only", "--format", "ascii"]);
    const unpacked = mkdtempSync(join(tmpdir(), "spana-sdk-unpacked-"));
    try {
      await run("tar", ["-xzf", tarball, "-C", unpacked]);
      const { stdout } = await run(join(ROOT, "node_modules/.bin/publint"), [
        join(unpacked, "package"),
        "--strict",
      ]);
      expect(stdout).toContain("All good!");
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  });

  it("fails before any request, with the documented message, where there is no WebSocket", async () => {
    let requests = 0;
    const counting = createServer((_request, response) => {
      requests++;
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => counting.listen(0, "127.0.0.1", resolve));
    const { port } = counting.address() as AddressInfo;
    writeFileSync(
      join(app, "no-websocket.mjs"),
      `delete globalThis.WebSocket;
const { createChatClient, NO_WEBSOCKET_MESSAGE } = await import("@spana/chat-client");
const baseUrl = process.env.SPANA_URL;
try {
  // The quickstart's first step: it must not get as far as creating a booking.
  const client = createChatClient({ baseUrl, getToken: () => "jwt" });
  await client.api.createBooking({ body: { providerId: "bob" } });
  console.log("created a booking it cannot chat in");
} catch (error) {
  console.log(JSON.stringify({ name: error.name, documented: error.message === NO_WEBSOCKET_MESSAGE }));
}
const httpOnly = createChatClient({ baseUrl, getToken: () => "jwt", httpOnly: true });
await httpOnly.api.health().catch(() => {});
try {
  await httpOnly.booking("any").connect();
} catch (error) {
  console.log(error.name);
}
`,
    );
    try {
      const { stdout } = await node("no-websocket.mjs", { SPANA_URL: `http://127.0.0.1:${port}` });
      const [first, second] = stdout.trim().split("\n");
      expect(JSON.parse(first ?? "{}")).toEqual({ name: "NoWebSocketError", documented: true });
      expect(second).toBe("NoWebSocketError");
      // Only the HTTP-only client's call reached the server.
      expect(requests).toBe(1);
    } finally {
      counting.close();
    }
  });

  it("has a typed call for every HTTP route of the OpenAPI document, and opens its sockets", async () => {
    const res = await fetch(`${service.base}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const { stdout } = await node(
      await writeScript(
        "api-methods.mjs",
        `const { createChatClient } = await import("@spana/chat-client");
console.log(JSON.stringify(Object.keys(createChatClient({ baseUrl: "http://x", getToken: () => "" }).api)));`,
      ),
    );
    const methods: string[] = JSON.parse(stdout);
    const byCall = Object.entries(httpRoutes).map(([name, route]) => [name, `${route.method} ${route.path}`]);
    expect(methods.sort()).toEqual(Object.keys(httpRoutes).sort());
    const sockets = Object.values(socketRoutes).map((s) => `GET ${s.path}`);
    expect(documented.sort()).toEqual([...byCall.map(([, route]) => route), ...sockets].sort());
  });
});

async function writeScript(name: string, text: string): Promise<string> {
  writeFileSync(join(app, name), text);
  return name;
}
