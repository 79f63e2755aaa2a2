import crypto from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";

/**
 * The `Authorization` check of the kick and forget routes
 * (`http_muc_kick_authorization_header`, as mod_http_muc_kick compares it,
 * but in constant time).
 */

function digest(s: string): Buffer {
  // UTF-16 code units, so that distinct JS strings (even with lone
  // surrogates, which UTF-8 would fold into U+FFFD) never share bytes.
  return crypto.createHash("sha256").update(Buffer.from(s, "utf16le")).digest();
}

/**
 * `a === b` in time independent of where they differ and of their lengths:
 * both sides are hashed to 32 bytes first, then compared with
 * `crypto.timingSafeEqual`, so neither a common prefix nor a length
 * difference shows in the timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}

/** Middleware: the request's `Authorization` must equal `expected`, else 401 before the body is read. */
export function requireAuthorization(expected: string): MiddlewareHandler {
  if (expected.length === 0) throw new TypeError("the kick authorization value must not be empty");
  const expectedDigest = digest(expected);
  return async (c, next) => {
    const given = c.req.header("authorization") ?? "";
    // Hash even a missing header: the answer's timing says nothing either way.
    if (!crypto.timingSafeEqual(digest(given), expectedDigest)) throw new HttpError(401, "Authorization failed");
    await next();
  };
}
