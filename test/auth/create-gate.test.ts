import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGate, type GateConfig } from "../../src/auth/create-gate.ts";
import { silentLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";

const base: GateConfig = {
  muc_http_auth_url: "http://127.0.0.1:1/auth",
  muc_http_auth_enabled_for: undefined,
  muc_http_auth_disabled_for: undefined,
  muc_http_auth_insecure: false,
  muc_http_auth_authorization_header: undefined,
  muc_http_auth_cache_ttl: 30,
  muc_http_auth_negative_cache_ttl: 5,
  muc_http_auth_cache_size: 100,
  muc_http_auth_timeout: 2,
  muc_http_auth_max_concurrency: 4,
};
const deps = () => ({ metrics: new Metrics(), logger: silentLogger });

let server: ReturnType<typeof Bun.serve>;
const auth: (string | null)[] = [];
beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      auth.push(req.headers.get("authorization"));
      const nick = new URL(req.url).searchParams.get("nickname");
      return Response.json(nick === "Romeo" ? { allowed: true } : { allowed: false, error: "not invited" });
    },
  });
});
afterAll(() => server.stop(true));

describe("createGate", () => {
  test("wires policy, HTTP client and cache from the muc_http_auth_* keys", async () => {
    const metrics = new Metrics();
    const gate = createGate(
      {
        ...base,
        muc_http_auth_url: `http://127.0.0.1:${server.port}/auth`,
        muc_http_auth_authorization_header: "Bearer t0ken",
        muc_http_auth_enabled_for: { "example.org": ["teaparty"] },
      },
      { metrics, logger: silentLogger },
    );
    expect(gate.mustAuthorize("teaparty", "example.org")).toBe(true);
    expect(gate.mustAuthorize("lobby", "example.org")).toBe(false);
    const q = { userJID: "romeo@example.org", mucJID: "teaparty@rooms.example.org", nickname: "Romeo" };
    expect(await gate.decide(q)).toMatchObject({ allowed: true, source: "fetch" });
    expect(gate.decide(q)).toMatchObject({ allowed: true, source: "cache" });
    expect(await gate.decide({ ...q, nickname: "Tybalt" })).toMatchObject({ allowed: false, failure: false, reason: "not invited" });
    expect(auth).toEqual(["Bearer t0ken", "Bearer t0ken"]);
    expect(metrics.authRequests.allow.value).toBe(1);
    expect(metrics.authRequests.deny.value).toBe(1);
  });

  test("without a URL (auth off for every room, as the config insists) the gate asks nobody and fails closed if asked", async () => {
    const gate = createGate({ ...base, muc_http_auth_url: undefined, muc_http_auth_enabled_for: { all: [] } }, deps());
    expect(gate.mustAuthorize("any", "example.org")).toBe(false);
    expect(await gate.decide({ userJID: "a@b", mucJID: "c@d", nickname: "e" })).toMatchObject({ allowed: false, failure: true });
  });
});
