import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { HttpError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { ApiError } from "./room-api/api-error.ts";

/**
 * The one place where failures become HTTP answers (src/errors.ts: each
 * boundary translates errors once). Every error answer is JSON with an
 * `error` string; a body a route's zod schema refused is a 400; anything else
 * that is not an HttpError is a bug: it is logged and answered with a generic
 * 500 that reveals nothing of it.
 */

/** A known route asked with a method it does not serve; answered 405 with `Allow`. */
export class MethodNotAllowed extends HttpError {
  override name = "MethodNotAllowed";
  constructor(readonly allow: readonly string[]) {
    super(405, `Method not allowed; use ${allow.join(" or ")}`);
  }
}

type ErrorStatus = HttpError["status"];

function isErrorStatus(status: number): status is ErrorStatus {
  return [400, 401, 404, 405, 408, 413, 415, 500, 503].includes(status);
}

export function errorResponse(c: Context, err: unknown, logger?: Logger): Response {
  // The room API answers in ejabberd's shapes (room-api/api-error.ts).
  if (err instanceof ApiError) return c.json(err.body, err.status);
  if (err instanceof MethodNotAllowed) {
    return c.json({ error: err.message }, 405, { allow: err.allow.join(", ") });
  }
  if (err instanceof HttpError) return c.json({ error: err.message }, err.status);
  // A body its route's schema refused (body.ts): the first issue, in the schema's words.
  if (err instanceof z.ZodError) return c.json({ error: err.issues[0]?.message ?? "Bad request" }, 400);
  // Hono's own refusals (none of the routes use them today), kept JSON and 4xx.
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500 && isErrorStatus(err.status)) {
    return c.json({ error: err.message || "Bad request" }, err.status);
  }
  logger?.error({ err, method: c.req.method, path: c.req.path }, "bug: HTTP handler threw");
  return c.json({ error: "Internal server error" }, 500);
}

export function notFoundResponse(c: Context): Response {
  return c.json({ error: "Not found" }, 404);
}
