import { z } from "zod";
import type { ArgumentSpec } from "./room-api/api-arguments.ts";
import { ROOM_COMMANDS } from "./room-api/room-commands.ts";
import { FORGET_BODY } from "./forget-route.ts";
import { KICK_BODY } from "./kick-route.ts";

/**
 * The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`
 * (README "HTTP API"). Request bodies come from the schemas that validate
 * them — the zod schemas of /muc_kick and /muc_auth/forget (zod's own JSON
 * Schema output), the argument tables of the room API — so the document
 * cannot drift from what is checked.
 */

type Schema = Record<string, unknown>;

/** A zod schema as the JSON Schema of what a client sends (refinements are not representable: described in words instead). */
function inputSchema(schema: z.ZodType): Schema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Schema;
  return rest;
}

const ERROR = { type: "object", properties: { error: { type: "string" } }, required: ["error"] };
const API_ERROR = {
  oneOf: [
    { type: "string", description: "a command's error, in ejabberd's words (e.g. \"Room already exists\")" },
    {
      type: "object",
      description: "mod_http_api's own errors: code 10 authorization, 40 the endpoint",
      properties: { status: { const: "error" }, code: { type: "integer" }, message: { type: "string" } },
      required: ["status", "code", "message"],
    },
  ],
};

const json = (schema: Schema, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = (codes: readonly number[], schema: Schema = ERROR) =>
  Object.fromEntries(codes.map((code) => [String(code), json(schema, STATUS_TEXT[code] ?? "error")]));

const STATUS_TEXT: Record<number, string> = {
  400: "bad request",
  401: "Authorization missing or wrong",
  404: "not found",
  413: "body over 64 KiB",
  503: "unavailable",
};

/** The room API arguments as a JSON Schema object: every argument a string, `options` a list or object. */
function argumentsSchema(specs: readonly ArgumentSpec[]): Schema {
  const properties: Record<string, Schema> = {};
  for (const spec of specs) {
    properties[spec.name] =
      spec.kind === "options"
        ? {
            oneOf: [
              { type: "array", items: { type: "object", properties: { name: { type: "string" }, value: { type: "string" } }, required: ["name", "value"] } },
              { type: "object", additionalProperties: { type: "string" } },
            ],
          }
        : { type: "string" };
  }
  return { type: "object", properties, required: specs.filter((s) => !s.optional).map((s) => s.name), additionalProperties: false };
}

function roomApiPaths(prefix: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [name, command] of ROOM_COMMANDS) {
    paths[`${prefix}/${name}`] = {
      post: {
        operationId: `${prefix === "/api" ? "" : "v1_"}${name}`,
        summary: `ejabberd mod_muc_admin ${name} (docs/room-api.md)`,
        tags: ["room API"],
        security: [{ authorization: [] }],
        requestBody: { required: true, content: { "application/json": { schema: argumentsSchema(command.args) } } },
        responses: { "200": json({}, "the command's result (0 for an action)"), ...errors([400, 401, 404, 413, 503], API_ERROR) },
      },
    };
  }
  return paths;
}

const authorized = (body: z.ZodType, summary: string, ok: Schema) => ({
  post: {
    summary,
    security: [{ authorization: [] }],
    requestBody: { required: true, content: { "application/json": { schema: inputSchema(body) } } },
    responses: { "200": json(ok, "done"), ...errors([400, 401, 404, 413]) },
  },
});

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "mucgate HTTP API", version, description: "README \"HTTP API\", docs/http-api.md, docs/room-api.md" },
    components: {
      securitySchemes: {
        authorization: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description: "the exact configured value (http_muc_kick_authorization_header; /api: http_api_authorization_header)",
        },
      },
    },
    paths: {
      "/health": {
        get: {
          summary: "whether the component is connected and storage commits succeed",
          responses: {
            "200": json({ type: "object", properties: { status: { const: "ok" }, xmpp: { const: "online" }, storage: { const: "ok" } } }, "online"),
            "503": json(
              { type: "object", properties: { status: { enum: ["unavailable", "degraded"] }, xmpp: { type: "string" }, storage: { enum: ["ok", "failing"] } } },
              "not connected (unavailable), or storage commits failing (degraded)",
            ),
          },
        },
      },
      "/metrics": { get: { summary: "Prometheus text format", responses: { "200": { description: "metrics", content: { "text/plain": {} } } } } },
      "/openapi.json": { get: { summary: "this document", responses: { "200": json({ type: "object" }, "OpenAPI 3.1") } } },
      "/muc_kick": authorized(KICK_BODY, "kick a nickname, or every occupant of a JID, from a room (XEP-0045 §8.2, status 307)", {
        type: "object",
        properties: { kicked: { type: "array", items: { type: "string" } }, muc: { type: "string" } },
      }),
      "/muc_auth/forget": authorized(FORGET_BODY, "drop cached join decisions of a user and/or a room", {
        type: "object",
        properties: { forgotten: { type: "integer" } },
      }),
      ...roomApiPaths("/api"),
      ...roomApiPaths("/api/v1"),
    },
  };
}
