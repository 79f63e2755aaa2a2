import type { Server } from "bun";

/**
 * A real HTTP authorization service for tests (the protocol of Prosody's
 * mod_muc_http_auth, which mucgate speaks):
 *   GET <url>?userJID=…&mucJID=…&nickname=…  →  200 {"allowed": true|false, "error"?: "…", "affiliation"?, "role"?}
 * Every request is recorded; how it is answered is a `Behaviour`, chosen per
 * request by a fixed default, a queue of one-shot answers, or a function of
 * the request — so tests can stage allow, deny, 5xx, garbage, hangs and slow
 * answers, and check what mucgate asked and how often.
 */

export type Behaviour =
  /** `{"allowed": true}`, plus `with`'s fields (an `affiliation`, a `role`). */
  | { kind: "allow"; with?: Record<string, unknown> }
  | { kind: "deny"; error: string }
  /** Any status with a JSON-encoded body (or none). */
  | { kind: "status"; status: number; body?: unknown }
  /** These exact bytes as an application/json body (invalid JSON, wrong shapes). */
  | { kind: "raw"; body: string; status?: number; contentType?: string }
  /** No answer until `release()` (or the server stops). */
  | { kind: "hang" }
  /** Wait `ms`, then answer as `then`. */
  | { kind: "delay"; ms: number; then: Behaviour }
  /** Status 200 and the first bytes of a body, then nothing more until the client gives up. */
  | { kind: "stall"; prefix: string };

export const allow = (extra?: Record<string, unknown>): Behaviour => (extra ? { kind: "allow", with: extra } : { kind: "allow" });
export const deny = (error = "denied by test"): Behaviour => ({ kind: "deny", error });
export const status = (code: number, body?: unknown): Behaviour => ({ kind: "status", status: code, body });
export const raw = (body: string, code = 200, contentType = "application/json"): Behaviour => ({
  kind: "raw",
  body,
  status: code,
  contentType,
});
export const hang = (): Behaviour => ({ kind: "hang" });
export const slow = (ms: number, then: Behaviour = allow()): Behaviour => ({ kind: "delay", ms, then });
export const stall = (prefix = '{"allowed": tr'): Behaviour => ({ kind: "stall", prefix });

export interface AuthRequest {
  method: string;
  /** Path and query as received, e.g. `/auth?userJID=…`. */
  url: string;
  path: string;
  /** Decoded query parameters (last value wins). */
  query: Record<string, string>;
  userJID: string | undefined;
  mucJID: string | undefined;
  nickname: string | undefined;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** `Date.now()` when it arrived. */
  receivedAt: number;
  /** `Date.now()` when it was answered; undefined while pending, or if the client gave up first. */
  answeredAt: number | undefined;
  /** The behaviour it got. */
  behaviour: Behaviour;
}

export type Policy = Behaviour | ((request: AuthRequest) => Behaviour);

export interface AuthServerOptions {
  /** How requests are answered when no one-shot answer is queued. Default `allow()`. */
  behaviour?: Policy;
  /** Path to serve; other paths answer 404 (and are recorded). Default `/auth`. */
  path?: string;
  /** Serve HTTPS with this certificate and key (PEM); `url` then starts with `https://`. */
  tls?: { cert: string; key: string };
}

export interface AuthServer {
  /** `http://127.0.0.1:<port>/auth` (`https://` with `tls`) — what `muc_http_auth_url` should be. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: readonly AuthRequest[];
  /** Requests being answered right now (a client that gave up no longer counts), and the most at once since the last reset. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Change the default behaviour (a function may look at the request). */
  setBehaviour(policy: Policy): void;
  /** Queue answers for the next requests, in order, before the default applies. */
  enqueue(...behaviours: Behaviour[]): void;
  /** Answer every request held by `hang` with `behaviour` (default allow). Returns how many. */
  release(behaviour?: Behaviour): number;
  /** Resolves once `count` requests in total have arrived. */
  waitForRequests(count: number, timeout?: number): Promise<readonly AuthRequest[]>;
  /** Forget requests and queued answers, release held ones as 503, back to the start-up behaviour. */
  reset(): void;
  /** Answer held requests 503, then close the listener and every open connection. */
  stop(): Promise<void>;
}

function respond(behaviour: Exclude<Behaviour, { kind: "hang" } | { kind: "delay" } | { kind: "stall" }>): Response {
  switch (behaviour.kind) {
    case "allow":
      return Response.json({ allowed: true, ...behaviour.with });
    case "deny":
      return Response.json({ allowed: false, error: behaviour.error });
    case "status":
      return behaviour.body === undefined
        ? new Response(null, { status: behaviour.status })
        : Response.json(behaviour.body, { status: behaviour.status });
    case "raw":
      return new Response(behaviour.body, {
        status: behaviour.status ?? 200,
        headers: { "content-type": behaviour.contentType ?? "application/json" },
      });
  }
}

export function startAuthServer(options: AuthServerOptions = {}): AuthServer {
  const initial: Policy = options.behaviour ?? allow();
  const path = options.path ?? "/auth";
  let policy = initial;
  let queue: Behaviour[] = [];
  const requests: AuthRequest[] = [];
  const held = new Set<(b: Behaviour) => void>();
  const arrivalWaiters = new Set<() => void>();
  let inFlight = 0;
  let maxInFlight = 0;

  async function answer(behaviour: Behaviour, signal: AbortSignal): Promise<Response | undefined> {
    if (behaviour.kind === "hang") {
      // The client giving up (mucgate's timeout) ends the wait too, so that
      // `inFlight` counts only requests someone still waits for.
      const next = await new Promise<Behaviour | undefined>((resolve) => {
        held.add(resolve);
        signal.addEventListener("abort", () => {
          held.delete(resolve);
          resolve(undefined);
        });
      });
      return next === undefined ? undefined : answer(next, signal);
    }
    if (behaviour.kind === "delay") {
      await Bun.sleep(behaviour.ms);
      return answer(behaviour.then, signal);
    }
    if (behaviour.kind === "stall") {
      const prefix = new TextEncoder().encode(behaviour.prefix);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(prefix);
          signal.addEventListener("abort", () => {
            try {
              controller.close();
            } catch {}
          });
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
    }
    return respond(behaviour);
  }

  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // Bun closes idle connections after 10 s by default; a "hang" must hang.
    idleTimeout: 0,
    ...(options.tls ? { tls: options.tls } : {}),
    async fetch(req) {
      const url = new URL(req.url);
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const record: AuthRequest = {
        method: req.method,
        url: url.pathname + url.search,
        path: url.pathname,
        query,
        userJID: query.userJID,
        mucJID: query.mucJID,
        nickname: query.nickname,
        headers,
        receivedAt: Date.now(),
        answeredAt: undefined,
        behaviour: allow(),
      };
      if (url.pathname !== path) {
        record.behaviour = status(404, { error: "not found" });
      } else {
        record.behaviour = queue.shift() ?? (typeof policy === "function" ? policy(record) : policy);
      }
      requests.push(record);
      for (const w of arrivalWaiters) w();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const response = await answer(record.behaviour, req.signal);
        if (response === undefined) return new Response(null, { status: 503 }); // the client is gone
        record.answeredAt = Date.now();
        return response;
      } finally {
        inFlight--;
      }
    },
  });

  const port = server.port ?? 0;
  const api: AuthServer = {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}${path}`,
    port,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    setBehaviour(p) {
      policy = p;
    },
    enqueue(...behaviours) {
      queue.push(...behaviours);
    },
    release(behaviour = allow()) {
      const waiting = [...held];
      held.clear();
      for (const resolve of waiting) resolve(behaviour);
      return waiting.length;
    },
    waitForRequests(count, timeout = 3000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          arrivalWaiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          arrivalWaiters.delete(check);
          reject(
            new Error(
              `auth server: ${requests.length} of ${count} requests within ${timeout} ms: ${requests.map((r) => r.url).join(", ") || "(none)"}`,
            ),
          );
        }, timeout);
        arrivalWaiters.add(check);
      });
    },
    reset() {
      api.release(status(503, { error: "auth server reset" }));
      requests.length = 0;
      queue = [];
      policy = initial;
      maxInFlight = inFlight;
    },
    async stop() {
      api.release(status(503, { error: "auth server stopping" }));
      await server.stop(true);
    },
  };
  return api;
}
