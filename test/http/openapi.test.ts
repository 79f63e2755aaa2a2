import { describe, expect, test } from "bun:test";
import { ROOM_COMMANDS } from "../../src/http/room-api/room-commands.ts";
import { httpFixture } from "./fixture.ts";

/** GET /openapi.json: the whole HTTP API, from the schemas that validate the requests. */

async function document(): Promise<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>> }> {
  const res = await httpFixture().app.request("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  return (await res.json()) as never;
}

/** Every (method, path) the app serves, as OpenAPI writes them: Hono's routes, /api/* as one path per command and prefix. */
function served(): string[] {
  const { app } = httpFixture();
  const routes = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" && (r.path === "/api" || r.path === "/api/*")) {
      for (const name of ROOM_COMMANDS.keys()) routes.add(`post /api/${name}`).add(`post /api/v1/${name}`);
      continue;
    }
    if (r.method === "ALL") continue; // the 405 answers of known paths
    routes.add(`${r.method.toLowerCase()} ${r.path}`);
  }
  return [...routes].sort();
}

describe("GET /openapi.json", () => {
  test("is OpenAPI 3.1 and lists every route the app serves, and nothing else", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)).sort();
    expect(listed).toEqual(served());
    expect(listed.length).toBeGreaterThan(2 * ROOM_COMMANDS.size);
  });

  test("bodies are the validating schemas: /muc_kick's fields, create_room's required arguments", async () => {
    const doc = await document();
    const kick = doc.paths["/muc_kick"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(kick.properties as object).sort()).toEqual(["jid", "muc", "nickname", "reason"]);
    const create = doc.paths["/api/create_room"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(create).toMatchObject({ required: ["name", "service", "host"], additionalProperties: false });
    const withOpts = doc.paths["/api/create_room_with_opts"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(withOpts.required).toEqual(["name", "service", "host"]);
  });

  test("another method is 405", async () => {
    const res = await httpFixture().app.request("/openapi.json", { method: "POST" });
    expect(res.status).toBe(405);
  });
});
