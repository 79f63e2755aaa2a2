import { z } from "zod";
import { HttpError } from "../errors.ts";
import { readCapped } from "../read-capped.ts";

/**
 * The JSON body of a kick or forget request: `Content-Type: application/json`
 * (UTF-8), at most 64 KiB, JSON (a 400 or 413 here otherwise), then checked by
 * the route's zod schema. A schema's checks run in order and the first issue
 * is the answer: a 400 with the schema's wording (src/http/errors.ts).
 */

/** Largest body accepted: 64 KiB (README "HTTP API", docs/http-api.md). */
export const MAX_BODY_BYTES = 64 * 1024;

const TOO_LARGE = `Request body is larger than ${MAX_BODY_BYTES} bytes (64 KiB)`;

/**
 * Longest wait for a whole body: a client that stalls mid-body gets a 408
 * with a JSON error, before Bun.serve's idle timeout (10 s) would close the
 * connection with no answer at all.
 */
export const BODY_TIMEOUT_MS = 5000;

/** `application/json`, any case, with optional parameters; a charset, if given, must be UTF-8. */
function checkContentType(header: string | null): void {
  const [type = "", ...params] = (header ?? "").split(";");
  if (type.trim().toLowerCase() !== "application/json") {
    throw new HttpError(400, "Content-Type must be application/json");
  }
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") throw new HttpError(400, "JSON body must be UTF-8 (charset=utf-8)");
  }
}

/**
 * The body's bytes, at most `limit` of them: a declared Content-Length over
 * the limit is refused before reading, and the bytes actually read are
 * counted too (a chunked body has no Content-Length; a declared one may lie).
 */
export async function readLimited(request: Request, limit = MAX_BODY_BYTES, timeoutMs = BODY_TIMEOUT_MS): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > limit) throw new HttpError(413, TOO_LARGE);
  let bytes: Uint8Array | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<"stalled">((resolve) => {
    timer = setTimeout(() => resolve("stalled"), timeoutMs);
  });
  try {
    const read = readCapped(request.body, limit);
    read.catch(() => {}); // a late failure after the 408 is nobody's business
    const first = await Promise.race([read, stalled]);
    if (first === "stalled") {
      request.body?.cancel().catch(() => {});
      throw new HttpError(408, `Request body not received within ${timeoutMs / 1000} s`);
    }
    bytes = first;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, "Could not read the request body");
  } finally {
    clearTimeout(timer);
  }
  if (bytes === undefined) throw new HttpError(413, TOO_LARGE);
  return bytes;
}

/** The request's JSON body as `schema` reads it; throws the HttpError or ZodError that says what is wrong with it. */
export async function readJsonBody<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  checkContentType(request.headers.get("content-type"));
  const bytes = await readLimited(request);
  let value: unknown;
  try {
    // fatal: invalid UTF-8 is not JSON (RFC 8259 §8.1); a leading BOM is dropped.
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    // mod_http_muc_kick's wording for anything that is not JSON.
    throw new HttpError(400, "JSON body not found");
  }
  return schema.parse(value);
}

/** A body schema: a JSON object whose fields are `shape`; other fields are ignored. */
export function jsonObject<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape, { error: "JSON body must be an object" });
}

/** A string field; any other JSON value is refused naming the field. */
export function stringField(field: string) {
  return z.string({ error: `${field} must be a string` });
}
