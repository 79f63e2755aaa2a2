/**
 * An in-process authorization service with no logic: every question is
 * answered `{"allowed":true}` — at once, or after `setDelay(ms)` to stand in
 * for a slower backend — and counted. It runs on the bench's own event loop,
 * so its cost is part of every cold figure, exactly as it is part of the
 * bare-fetch baselines it is compared with.
 */
export interface AuthServer {
  readonly url: string;
  /** Requests answered since start (or since the last `reset`). */
  requests(): number;
  reset(): void;
  /** Answer every later request after `ms` milliseconds (0: at once, the default). */
  setDelay(ms: number): void;
  stop(): void;
}

const BODY = '{"allowed":true}';
const HEADERS = { "content-type": "application/json" };

export function startAuthServer(): AuthServer {
  let requests = 0;
  let delayMs = 0;
  const answer = () => new Response(BODY, { headers: HEADERS });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      return delayMs > 0 ? Bun.sleep(delayMs).then(answer) : answer();
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/auth`,
    requests: () => requests,
    reset() {
      requests = 0;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    stop() {
      void server.stop(true);
    },
  };
}

/**
 * The baseline round trip: what `AuthClient` does at the least — one GET with
 * the same headers, the body read as text, parsed as JSON — without the gate,
 * the cache, the limiter or the metrics.
 */
export async function bareFetch(url: string): Promise<boolean> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  const body = JSON.parse(await res.text()) as { allowed?: unknown };
  return body.allowed === true;
}

/** A TCP port that was free a moment ago (config validation wants 1..65535, not 0). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
