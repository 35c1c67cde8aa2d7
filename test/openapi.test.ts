import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { api } from "./helpers/api";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { name: string }[] }>>;
};

/** Every method and path the Hono app really routes, in OpenAPI's `{param}` form. */
function routedPaths(): string[] {
  const routes = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    // `/:action{accept|decline}` stands for one path per alternative.
    const alternatives = /:(\w+)\{([^}]+)\}/.exec(route.path);
    const paths = alternatives
      ? (alternatives[2] ?? "").split("|").map((alt) => route.path.replace(alternatives[0], alt))
      : [route.path];
    for (const path of paths) routes.add(`${route.method.toLowerCase()} ${path.replace(/:(\w+)/g, "{$1}")}`);
  }
  return [...routes].sort();
}

describe("GET /openapi.json", () => {
  it("documents exactly the routes the app serves, from the protocol's schemas", async () => {
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as Doc;
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`))
      .sort();
    expect(documented).toEqual(routedPaths());

    const create = JSON.stringify(doc.paths["/bookings"]?.post?.requestBody);
    expect(create).toContain('"required":["providerId"]');
    const history = doc.paths["/chat/booking/{id}"]?.get?.parameters?.map((p) => p.name);
    expect(history).toEqual(expect.arrayContaining(["limit", "before", "after", "X-Chat-Token"]));
  });
});
