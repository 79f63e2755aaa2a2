import type { Element } from "@xmpp/xml";
import type { Context, Hono } from "hono";
import { HttpError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { constantTimeEqual } from "../authorization.ts";
import { readLimited } from "../body.ts";
import { duplicateKeys, readArguments } from "./api-arguments.ts";
import { ApiError, httpApiError } from "./api-error.ts";
import { ROOM_COMMANDS, type CommandContext, type RoomApiService } from "./room-commands.ts";

/**
 * ejabberd's room admin API over HTTP (mod_http_api + mod_muc_admin,
 * docs/room-api-ejabberd.md): `POST /api/<command>` (or `/api/v1/<command>`;
 * GET with the arguments in the query works too) with the arguments as one
 * JSON object; `200` and the command's JSON result. mod_http_api's CORS
 * headers on every answer, and its preflight. Unlike ejabberd, the
 * `Authorization` is checked first, against one configured value
 * (`http_api_authorization_header`), as /muc_kick's; the request's
 * Content-Type is not looked at, as ejabberd does not (`curl -d` works).
 */

export interface RoomApiDeps {
  service: RoomApiService;
  /** Sends stanzas over the component connection. */
  send: (stanzas: Element[]) => void;
  /** Makes what the last commands recorded durable (storage commit); absent without storage. */
  commit?: (() => unknown) | undefined;
  /** Brings a stored room into memory (the room loader); absent: rooms live in memory only. */
  prepare?: ((roomJid: string) => boolean | Promise<boolean>) | undefined;
  /** The exact Authorization value every call must carry. */
  authorization: string;
  /** Runs `fn` after `ms`; default an unref'd setTimeout (tests inject one). */
  schedule?: ((ms: number, fn: () => void) => void) | undefined;
  logger?: Logger | undefined;
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "Content-Type, Authorization, X-Admin",
};

const NOT_AUTHORIZED = "You are not authorized to call this command.";

/** The command name of `/api/<command>` or `/api/v1/<command>`; undefined when the path names none (or more). */
function commandOf(path: string): string | undefined {
  const rest = path.replace(/^\/api(\/v1)?(?=\/|$)/, "");
  const parts = rest.split("/").slice(1);
  if (parts.length !== 1 || parts[0] === "") return undefined;
  return decodeURIComponent(parts[0]!);
}

/** The request's arguments as a JSON object, and the names it gave twice. */
async function argumentsOf(c: Context): Promise<{ given: Record<string, unknown>; duplicates: string[] }> {
  if (c.req.method === "GET") {
    const given: Record<string, unknown> = {};
    const duplicates: string[] = [];
    for (const [name, value] of new URL(c.req.url).searchParams) {
      if (Object.hasOwn(given, name)) duplicates.push(name);
      given[name] = value;
    }
    return { given, duplicates };
  }
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(c.req.raw);
  } catch (err) {
    if (err instanceof HttpError && err.status === 413) throw new ApiError(413, err.message);
    throw new ApiError(400, "400 Bad Request");
  }
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "400 Bad Request");
  }
  // mod_http_api reads anything but an object (an array, a number) as no arguments.
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { given: {}, duplicates: [] };
  return { given: value as Record<string, unknown>, duplicates: duplicateKeys(text) };
}

export function roomApiRoutes(app: Hono, deps: RoomApiDeps): void {
  if (typeof deps.authorization !== "string" || deps.authorization.length === 0) throw new TypeError("authorization: must be a non-empty string");
  const context: CommandContext = {
    service: deps.service,
    prepare: deps.prepare ?? (() => true),
    async deliver(stanzas) {
      deps.send(stanzas);
      await deps.commit?.();
    },
    schedule: (ms, fn) => {
      // Whatever fn throws or rejects with (a failed storage commit) is logged, never unhandled.
      const run = () => {
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => deps.logger?.error({ err }, "room API timer failed"));
      };
      if (deps.schedule) deps.schedule(ms, run);
      else setTimeout(run, ms).unref();
    },
  };

  const handler = async (c: Context): Promise<Response> => {
    for (const [name, value] of Object.entries(CORS)) c.header(name, value);
    if (c.req.method === "OPTIONS") {
      return c.body("", 200, { "content-type": "text/plain", "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-max-age": "86400" });
    }
    if (!constantTimeEqual(c.req.header("authorization") ?? "", deps.authorization)) throw httpApiError(401, 10, NOT_AUTHORIZED);
    if (c.req.method !== "POST" && c.req.method !== "GET") throw httpApiError(400, 40, "Missing command name.");
    const name = commandOf(c.req.path);
    if (name === undefined) throw httpApiError(400, 40, "Missing command name.");
    const { given, duplicates } = await argumentsOf(c);
    const command = ROOM_COMMANDS.get(name);
    if (!command) throw httpApiError(404, 40, "Endpoint not found.");
    const args = readArguments(given, command.args, duplicates);
    const result = await command.run(args, context);
    // Reads at debug; changes at info, naming the room (never a password or reason).
    const change = !name.startsWith("get_") && name !== "muc_online_rooms";
    const room = typeof args.name === "string" ? args.name : undefined;
    deps.logger?.[change ? "info" : "debug"]({ command: name, room, jid: typeof args.jid === "string" ? args.jid : undefined }, "room API command");
    return c.json(result, 200);
  };
  app.all("/api", handler);
  app.all("/api/*", handler);
}
