import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { readCapped } from "../read-capped.ts";
import { topLevelKeys } from "./top-level-keys.ts";
import { GRANTED_AFFILIATIONS, GRANTED_ROLES, outcomeOf, type AuthAnswer, type AuthQuestion, type Standing } from "./types.ts";

/** The part of `fetch` the client uses; injectable so tests and benches can swap transport. */
export type FetchLike = (input: string, init: RequestInit & { tls?: { rejectUnauthorized?: boolean } }) => Promise<Response>;

export interface AuthClientOptions {
  /** `muc_http_auth_url`: http(s) GET endpoint; a query string already in it is kept. */
  readonly url: string;
  /** `muc_http_auth_authorization_header`: sent verbatim as `Authorization` when set. */
  readonly authorizationHeader?: string | undefined;
  /** `muc_http_auth_timeout`, seconds, for the whole exchange (connect, headers, body). */
  readonly timeout: number;
  /** `muc_http_auth_insecure`: skip TLS certificate verification. */
  readonly insecure?: boolean | undefined;
  /** Largest response body read, in bytes; a longer answer is a failure. Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined;
  readonly fetch?: FetchLike | undefined;
  readonly metrics?: Metrics | undefined;
  readonly logger?: Logger | undefined;
}

/** Anything that can ask the authorization service one question. Never rejects. */
export interface AuthAsker {
  ask(question: AuthQuestion): Promise<AuthAnswer>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Reasons end up in logs; a backend cannot flood them. */
const MAX_REASON_CHARS = 1024;

const ALLOW: AuthAnswer = Object.freeze({ allowed: true });

/** Only these parameter names are ours; a configured URL carrying them would be ambiguous. */
const OUR_PARAMS = ["userJID", "mucJID", "nickname"] as const;

function failure(reason: string): AuthAnswer {
  return { allowed: false, failure: true, reason: clip(reason) };
}

function clip(s: string): string {
  return s.length > MAX_REASON_CHARS ? `${s.slice(0, MAX_REASON_CHARS)}…` : s;
}

/** Seconds for messages: `5s`, `0.2s`. */
function seconds(s: number): string {
  return `${s}s`;
}

/** Thrown inside `#readBody` only; turned into a failure answer before `ask` returns. */
class BodyTooLarge extends Error {}
class InvalidText extends Error {}

/**
 * Asks the authorization service once, as mod_muc_http_auth does:
 * `GET <url>?userJID=<bare>&mucJID=<room bare>&nickname=<nick>` with the
 * configured `Authorization` header, and turns whatever comes back into an
 * `AuthAnswer`. Tightened against the module (which treated a missing or
 * non-boolean `allowed` loosely and ignored the status code): allowed ONLY on a
 * 2xx whose body is a JSON object with `allowed === true`; a 2xx with
 * `allowed === false` is a denial; everything else is a failure. Fail closed.
 *
 * `ask` never throws or rejects: every transport or parsing problem becomes a
 * `failure` answer whose reason says what went wrong (never the URL's query
 * string nor the Authorization header, which may carry secrets).
 */
export class AuthClient implements AuthAsker {
  readonly #prefix: string;
  readonly #origin: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #timeoutText: string;
  readonly #insecure: boolean;
  readonly #maxBody: number;
  readonly #fetch: FetchLike;
  readonly #metrics: Metrics | undefined;

  constructor(options: AuthClientOptions) {
    const { url, authorizationHeader, timeout, insecure = false, maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = options;

    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`url: not a valid URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`url: must be http:// or https://, got ${parsed.protocol}`);
    }
    for (const name of OUR_PARAMS) {
      if (parsed.searchParams.has(name)) {
        throw new TypeError(`url: must not already carry the ${name} query parameter`);
      }
    }
    if (authorizationHeader !== undefined && (typeof authorizationHeader !== "string" || /[\r\n\0]/.test(authorizationHeader))) {
      throw new TypeError("authorizationHeader: must be a string without line breaks");
    }
    if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError(`timeout: must be a positive number of seconds, got ${String(timeout)}`);
    }
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
      throw new TypeError(`maxBodyBytes: must be a positive integer, got ${String(maxBodyBytes)}`);
    }
    if (options.fetch !== undefined && typeof options.fetch !== "function") {
      throw new TypeError("fetch: must be a function");
    }

    // The configured query string is kept verbatim (re-serialising it through
    // URLSearchParams would change e.g. `?flag` into `?flag=`); ours follow it.
    parsed.hash = "";
    this.#prefix = `${parsed.href}${parsed.search ? "&" : "?"}userJID=`;
    this.#origin = parsed.origin;
    // Asked not to compress; an answer compressed anyway is inflated under the same cap (#readBody).
    this.#headers = { accept: "application/json", "accept-encoding": "identity" };
    if (authorizationHeader !== undefined) this.#headers.authorization = authorizationHeader;
    this.#timeoutMs = Math.ceil(timeout * 1000);
    this.#timeoutText = `timeout after ${seconds(timeout)}`;
    this.#insecure = insecure === true;
    this.#maxBody = maxBodyBytes;
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchLike);
    this.#metrics = options.metrics;

    if (this.#insecure) {
      (options.logger ?? silentLogger).warn(
        { origin: this.#origin },
        "muc_http_auth_insecure is set: TLS certificates of the authorization service are not verified",
      );
    }
  }

  /**
   * The request URL. Each value is percent-encoded with encodeURIComponent (RFC 3986
   * unreserved characters kept, space as %20, UTF-8 for the rest), which every
   * query decoder reads back the same way, unlike `+` for space.
   */
  urlFor(q: AuthQuestion): string {
    return `${this.#prefix}${encodeURIComponent(q.userJID)}&mucJID=${encodeURIComponent(q.mucJID)}&nickname=${encodeURIComponent(q.nickname)}`;
  }

  async ask(q: AuthQuestion): Promise<AuthAnswer> {
    const started = performance.now();
    let answer: AuthAnswer;
    try {
      answer = await this.#exchange(q);
    } catch (err) {
      answer = failure(this.#describe(err));
    }
    const m = this.#metrics;
    if (m) {
      m.authLatency.observe((performance.now() - started) / 1000);
      m.authRequests[outcomeOf(answer)].inc();
    }
    return answer;
  }

  async #exchange(q: AuthQuestion): Promise<AuthAnswer> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const init: RequestInit & { tls?: { rejectUnauthorized?: boolean } } = {
      method: "GET",
      headers: this.#headers,
      signal,
      // A redirect is not an answer (and following one could carry the
      // Authorization header elsewhere): a 3xx is reported as a failure.
      redirect: "manual",
    };
    if (this.#insecure) init.tls = { rejectUnauthorized: false };

    const res = await this.#fetch(this.urlFor(q), init);
    const ok = res.status >= 200 && res.status <= 299;

    let text: string;
    try {
      text = await this.#readBody(res);
    } catch (err) {
      const status = ok ? "" : `HTTP ${res.status}, `;
      if (err instanceof BodyTooLarge) return failure(`${status}body over ${this.#maxBody} bytes`);
      if (err instanceof InvalidText) return failure(`${status}body is not UTF-8`);
      const why = this.#describe(err);
      return failure(why === this.#timeoutText ? why : `${status}body read failed: ${why}`);
    }

    let body: unknown;
    let parsed = true;
    try {
      body = JSON.parse(text);
    } catch {
      parsed = false;
    }
    const object = parsed && body !== null && typeof body === "object" && !Array.isArray(body);
    const errorText = object ? errorOf(body as Record<string, unknown>) : undefined;

    if (!ok) {
      // Whatever the body says (even `allowed: true`), a non-2xx is no answer.
      return failure(errorText ? `HTTP ${res.status}: ${errorText}` : `HTTP ${res.status}`);
    }
    if (!parsed) return failure("invalid JSON");
    if (!object) return failure("not a JSON object");
    // JSON.parse keeps the last of two `allowed`; another reader may keep the first (RFC 8259 §4: names SHOULD be unique).
    if (topLevelKeys(text).filter((key) => key === "allowed").length > 1) return failure("allowed given more than once");
    const allowed = (body as Record<string, unknown>).allowed;
    if (allowed === true) return allowWith(body as Record<string, unknown>);
    if (allowed === false) return { allowed: false, failure: false, reason: clip(errorText || "no error text given") };
    return failure(errorText ? `allowed is not a boolean: ${errorText}` : "allowed is not a boolean");
  }

  /**
   * The body as UTF-8 text, at most `maxBodyBytes` of it *decoded*: a
   * Content-Length counts compressed bytes, so a 64 KiB gzip answer may
   * inflate to 64 MiB (issue 13). Only an uncompressed answer of a declared,
   * acceptable length is read in one native call; anything else is streamed
   * (Bun inflates as it goes) and cancelled at the cap. Invalid UTF-8 is
   * refused, not replaced (RFC 8259 §8.1); a leading BOM is dropped.
   */
  async #readBody(res: Response): Promise<string> {
    const length = res.headers.get("content-length");
    const declared = length === null ? NaN : Number(length);
    const encoding = (res.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
    const plain = encoding === "identity" || encoding === "";
    if (plain && Number.isFinite(declared) && declared > this.#maxBody) {
      await res.body?.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    const bytes = plain && Number.isFinite(declared) ? new Uint8Array(await res.arrayBuffer()) : await readCapped(res.body, this.#maxBody);
    if (bytes === undefined || bytes.byteLength > this.#maxBody) throw new BodyTooLarge();
    try {
      return UTF8.decode(bytes);
    } catch {
      throw new InvalidText();
    }
  }

  /** A failure reason for a thrown transport error; names no URL query nor header. */
  #describe(err: unknown): string {
    const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
    const name = typeof e?.name === "string" ? e.name : "";
    const code = typeof e?.code === "string" ? e.code : "";
    if (name === "TimeoutError" || name === "AbortError") return this.#timeoutText;
    switch (code) {
      case "ECONNREFUSED":
      case "ConnectionRefused":
        return `connection refused: ${this.#origin}`;
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `DNS lookup failed: ${this.#origin}`;
      case "ECONNRESET":
      case "ConnectionClosed":
        return `connection reset: ${this.#origin}`;
      default:
        break;
    }
    if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) return `TLS error (${code}): ${this.#origin}`;
    // Messages may quote the request URL: drop query strings, which may hold tokens.
    const message = (typeof e?.message === "string" ? e.message : String(err)).replace(/\?\S*/g, "?…");
    return `${code || name || "error"}: ${message}`;
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * An allow, with the `affiliation` and `role` it carries (README "Join
 * authorization"). Absent fields change nothing; a value that is not one of
 * the words is no usable answer, so the join is denied (fail closed).
 */
function allowWith(body: Record<string, unknown>): AuthAnswer {
  const { affiliation, role } = body;
  if (affiliation === undefined && role === undefined) return ALLOW;
  if (affiliation !== undefined && !(GRANTED_AFFILIATIONS as readonly unknown[]).includes(affiliation)) {
    return failure(`invalid affiliation ${clip(JSON.stringify(affiliation) ?? String(affiliation))}: must be one of ${GRANTED_AFFILIATIONS.join(", ")}`);
  }
  if (role !== undefined && !(GRANTED_ROLES as readonly unknown[]).includes(role)) {
    return failure(`invalid role ${clip(JSON.stringify(role) ?? String(role))}: must be one of ${GRANTED_ROLES.join(", ")}`);
  }
  const standing: Standing = Object.freeze({
    ...(affiliation !== undefined ? { affiliation: affiliation as Standing["affiliation"] } : {}),
    ...(role !== undefined ? { role: role as Standing["role"] } : {}),
  });
  return { allowed: true, standing };
}

/** The answer's `error` text, as mod_muc_http_auth logs it. */
function errorOf(body: Record<string, unknown>): string | undefined {
  const error = body.error;
  if (typeof error === "string") return error;
  if (error === undefined || error === null) return undefined;
  try {
    return JSON.stringify(error);
  } catch {
    return undefined;
  }
}
