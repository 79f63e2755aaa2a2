import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { AuthClient, type FetchLike } from "../../src/auth/auth-client.ts";
import type { AuthQuestion } from "../../src/auth/types.ts";
import { createLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";

const Q: AuthQuestion = { userJID: "romeo@example.org", mucJID: "teaparty@rooms.example.org", nickname: "Romeo" };

interface Seen {
  url: URL;
  authorization: string | null;
}

/** A real HTTP authorization service; the path selects the behaviour. */
let server: ReturnType<typeof Bun.serve>;
let base: string;
const seen: Seen[] = [];
const never = new Promise<Response>(() => {});
/** 64 MiB of spaces after a JSON answer, gzipped to about 64 KiB: a bomb behind a small Content-Length. */
const BOMB = gzipSync(Buffer.concat([Buffer.from('{"allowed":true}'), Buffer.alloc(64 * 1024 * 1024, 0x20)]));
const encodings: (string | null)[] = [];

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const url = new URL(req.url);
      seen.push({ url, authorization: req.headers.get("authorization") });
      encodings.push(req.headers.get("accept-encoding"));
      switch (url.pathname) {
        case "/allow":
          return Response.json({ allowed: true, error: "" });
        case "/deny":
          return Response.json({ allowed: false, error: "Romeo is not on the guest list" });
        case "/deny-silent":
          return Response.json({ allowed: false });
        case "/500-allowed":
          return Response.json({ allowed: true }, { status: 500 });
        case "/503-error":
          return Response.json({ allowed: false, error: "backend down" }, { status: 503 });
        case "/invalid-json":
          return new Response("{allowed: true", { headers: { "content-type": "application/json" } });
        case "/string-true":
          return Response.json({ allowed: "true" });
        case "/missing-allowed":
          return Response.json({ error: "what?" });
        case "/array":
          return Response.json([{ allowed: true }]);
        case "/null":
          return Response.json(null);
        case "/empty":
          return new Response("");
        case "/redirect":
          return new Response(null, { status: 302, headers: { location: "/allow" } });
        case "/hang":
          return never;
        case "/huge":
          return Response.json({ allowed: true, padding: "x".repeat(200 * 1024) });
        case "/huge-chunked":
          return new Response(
            new ReadableStream({
              pull(c) {
                c.enqueue(new TextEncoder().encode(" ".repeat(16 * 1024)));
              },
            }),
          );
        case "/slow-body":
          return new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(new TextEncoder().encode('{"allowed":'));
                // ...and never finishes.
              },
            }),
          );
        case "/gzip-bomb":
          return new Response(BOMB, { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
        case "/gzip-small":
          return new Response(gzipSync('{"allowed":true}'), { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
        case "/invalid-utf8":
          return new Response(Buffer.from([0x7b, 0x22, 0x61, 0x6c, 0x6c, 0x6f, 0x77, 0x65, 0x64, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
        case "/bom":
          return new Response('\uFEFF{"allowed":true}');
        case "/duplicate-allowed":
          return new Response('{"allowed":false,"allowed":true}');
        case "/nested-allowed":
          return new Response('{"allowed":true,"x":{"allowed":false,"y":["allowed"]},"s":"\\"allowed\\":"}');
        case "/echo":
          return Response.json({ allowed: true });
        case "/answer":
          // The answer is the JSON in ?body= (the standing cases).
          return new Response(url.searchParams.get("body"), { headers: { "content-type": "application/json" } });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server.stop(true);
});

function client(path: string, extra: Partial<ConstructorParameters<typeof AuthClient>[0]> = {}): AuthClient {
  return new AuthClient({ url: `${base}${path}`, timeout: 2, ...extra });
}

function lastSeen(): Seen {
  return seen[seen.length - 1]!;
}

/** A client whose service answers exactly `body`. */
function answering(body: unknown): AuthClient {
  return client(`/answer?body=${encodeURIComponent(JSON.stringify(body))}`);
}

describe("AuthClient reads the standing an allow carries", () => {
  test("affiliation and role come back with the allow", async () => {
    expect(await answering({ allowed: true, affiliation: "owner", role: "moderator" }).ask(Q)).toEqual({
      allowed: true,
      standing: { affiliation: "owner", role: "moderator" },
    });
  });

  test("either alone is kept alone", async () => {
    expect(await answering({ allowed: true, affiliation: "member" }).ask(Q)).toEqual({ allowed: true, standing: { affiliation: "member" } });
    expect(await answering({ allowed: true, role: "visitor" }).ask(Q)).toEqual({ allowed: true, standing: { role: "visitor" } });
  });

  test("every word the README lists is accepted", async () => {
    for (const affiliation of ["owner", "admin", "member", "none"]) {
      expect(await answering({ allowed: true, affiliation }).ask(Q)).toEqual({ allowed: true, standing: { affiliation } } as never);
    }
    for (const role of ["moderator", "participant", "visitor"]) {
      expect(await answering({ allowed: true, role }).ask(Q)).toEqual({ allowed: true, standing: { role } } as never);
    }
  });

  test("an unknown affiliation or role is a failure (fail closed), naming the value", async () => {
    expect(await answering({ allowed: true, affiliation: "outcast" }).ask(Q)).toEqual({
      allowed: false,
      failure: true,
      reason: 'invalid affiliation "outcast": must be one of owner, admin, member, none',
    });
    expect(await answering({ allowed: true, role: "Moderator" }).ask(Q)).toEqual({
      allowed: false,
      failure: true,
      reason: 'invalid role "Moderator": must be one of moderator, participant, visitor',
    });
  });

  test("null, a number or an object is no affiliation: failure", async () => {
    for (const affiliation of [null, 3, { a: 1 }, ""]) {
      const a = await answering({ allowed: true, affiliation }).ask(Q);
      expect(a).toMatchObject({ allowed: false, failure: true });
    }
    expect(await answering({ allowed: true, role: null }).ask(Q)).toMatchObject({ allowed: false, failure: true });
  });

  test("a denial's standing is not looked at: it stays a denial", async () => {
    expect(await answering({ allowed: false, error: "no", affiliation: "bogus" }).ask(Q)).toEqual({ allowed: false, failure: false, reason: "no" });
  });
});

describe("AuthClient answers", () => {
  test("2xx with allowed: true is allowed", async () => {
    expect(await client("/allow").ask(Q)).toEqual({ allowed: true });
  });

  test("2xx with allowed: false is a denial carrying the service's error text", async () => {
    expect(await client("/deny").ask(Q)).toEqual({
      allowed: false,
      failure: false,
      reason: "Romeo is not on the guest list",
    });
  });

  test("a denial without error text still says it is one", async () => {
    const a = await client("/deny-silent").ask(Q);
    expect(a).toMatchObject({ allowed: false, failure: false });
  });

  test("500 with {allowed: true} is a failure, not an allow", async () => {
    expect(await client("/500-allowed").ask(Q)).toEqual({ allowed: false, failure: true, reason: "HTTP 500" });
  });

  test("a non-2xx keeps the body's error text in the reason", async () => {
    expect(await client("/503-error").ask(Q)).toEqual({ allowed: false, failure: true, reason: "HTTP 503: backend down" });
  });

  test("404 is a failure", async () => {
    expect(await client("/nowhere").ask(Q)).toEqual({ allowed: false, failure: true, reason: "HTTP 404" });
  });

  test("a redirect is not followed: failure", async () => {
    expect(await client("/redirect").ask(Q)).toEqual({ allowed: false, failure: true, reason: "HTTP 302" });
  });

  test("invalid JSON is a failure", async () => {
    expect(await client("/invalid-json").ask(Q)).toEqual({ allowed: false, failure: true, reason: "invalid JSON" });
    expect(await client("/empty").ask(Q)).toEqual({ allowed: false, failure: true, reason: "invalid JSON" });
  });

  test('allowed: "true" (a string) is a failure', async () => {
    expect(await client("/string-true").ask(Q)).toEqual({
      allowed: false,
      failure: true,
      reason: "allowed is not a boolean",
    });
  });

  test("a missing allowed is a failure carrying the error text", async () => {
    expect(await client("/missing-allowed").ask(Q)).toEqual({
      allowed: false,
      failure: true,
      reason: "allowed is not a boolean: what?",
    });
  });

  test("a JSON array or null is not an object: failure", async () => {
    expect(await client("/array").ask(Q)).toEqual({ allowed: false, failure: true, reason: "not a JSON object" });
    expect(await client("/null").ask(Q)).toEqual({ allowed: false, failure: true, reason: "not a JSON object" });
  });

  test("a server that never answers times out", async () => {
    const t0 = performance.now();
    const a = await client("/hang", { timeout: 0.2 }).ask(Q);
    const ms = performance.now() - t0;
    expect(a).toEqual({ allowed: false, failure: true, reason: "timeout after 0.2s" });
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(1500);
  });

  test("a body that stalls mid-way times out", async () => {
    const a = await client("/slow-body", { timeout: 0.2 }).ask(Q);
    expect(a).toEqual({ allowed: false, failure: true, reason: "timeout after 0.2s" });
  });

  test("a body that stalls short of its declared Content-Length times out", async () => {
    // Raw HTTP: headers promise 100 bytes, 11 arrive, then nothing.
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"allowed":');
        },
      },
    });
    try {
      const a = await new AuthClient({ url: `http://127.0.0.1:${server.port}/auth`, timeout: 0.2 }).ask(Q);
      expect(a).toEqual({ allowed: false, failure: true, reason: "timeout after 0.2s" });
    } finally {
      server.stop(true);
    }
  });

  test("connection refused is a failure naming the origin", async () => {
    // Bind then release a port, so nothing listens there.
    const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = s.port;
    s.stop(true);
    const a = await new AuthClient({ url: `http://127.0.0.1:${port}/auth?token=s3cret`, timeout: 2 }).ask(Q);
    expect(a).toEqual({ allowed: false, failure: true, reason: `connection refused: http://127.0.0.1:${port}` });
  });

  test("an unknown host is a DNS failure", async () => {
    const a = await new AuthClient({ url: "http://mucgate-test.invalid/auth", timeout: 2 }).ask(Q);
    expect(a).toMatchObject({ allowed: false, failure: true });
    expect((a as { reason: string }).reason).toMatch(/^(DNS lookup failed|timeout)/);
  });

  test("a body over the cap is a failure (declared length)", async () => {
    expect(await client("/huge").ask(Q)).toEqual({ allowed: false, failure: true, reason: "body over 65536 bytes" });
  });

  test("an endless body is cut at the cap (no length declared)", async () => {
    expect(await client("/huge-chunked", { maxBodyBytes: 1000 }).ask(Q)).toEqual({
      allowed: false,
      failure: true,
      reason: "body over 1000 bytes",
    });
  });

  test("asks for an uncompressed answer", async () => {
    await client("/allow").ask(Q);
    expect(encodings.at(-1)).toBe("identity");
  });

  test("a gzip bomb is refused at the decoded cap, without inflating it all", async () => {
    const before = process.memoryUsage().rss;
    expect(await client("/gzip-bomb").ask(Q)).toEqual({ allowed: false, failure: true, reason: "body over 65536 bytes" });
    // Inflating it all would take 64 MiB and more.
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  test("a small compressed answer is still read", async () => {
    expect(await client("/gzip-small").ask(Q)).toEqual({ allowed: true });
  });

  test("invalid UTF-8 fails closed; a BOM is not part of the JSON", async () => {
    expect(await client("/invalid-utf8").ask(Q)).toEqual({ allowed: false, failure: true, reason: "body is not UTF-8" });
    expect(await client("/bom").ask(Q)).toEqual({ allowed: true });
  });

  test("two allowed keys fail closed, whichever comes last; allowed inside nested values or strings does not count", async () => {
    expect(await client("/duplicate-allowed").ask(Q)).toEqual({ allowed: false, failure: true, reason: "allowed given more than once" });
    expect(await client("/nested-allowed").ask(Q)).toEqual({ allowed: true });
  });

  test("an injected fetch that throws, or a body that errors, is a failure and never a rejection", async () => {
    const throwing: FetchLike = () => Promise.reject(new Error("boom at http://x/?token=s3cret"));
    const a = await client("/allow", { fetch: throwing }).ask(Q);
    expect(a).toMatchObject({ allowed: false, failure: true });
    expect((a as { reason: string }).reason).not.toContain("s3cret");

    const brokenBody: FetchLike = async () =>
      new Response(
        new ReadableStream({
          pull(c) {
            c.error(new Error("socket hang up"));
          },
        }),
      );
    const b = await client("/allow", { fetch: brokenBody }).ask(Q);
    expect(b).toMatchObject({ allowed: false, failure: true });
    expect((b as { reason: string }).reason).toMatch(/^body read failed: .*socket hang up/);

    const syncThrow = (() => {
      throw new TypeError("sync");
    }) as unknown as FetchLike;
    expect(await client("/allow", { fetch: syncThrow }).ask(Q)).toMatchObject({ allowed: false, failure: true });
  });
});

describe("AuthClient request", () => {
  test("sends userJID, mucJID and nickname as query parameters", async () => {
    await client("/echo").ask(Q);
    const { url } = lastSeen();
    expect(url.pathname).toBe("/echo");
    expect(url.searchParams.get("userJID")).toBe("romeo@example.org");
    expect(url.searchParams.get("mucJID")).toBe("teaparty@rooms.example.org");
    expect(url.searchParams.get("nickname")).toBe("Romeo");
  });

  test("keeps a query string already in the configured URL and encodes every value", async () => {
    const nick = "R&D = fun? ☕ ünï #1 +plus 100%";
    const c = new AuthClient({ url: `${base}/echo?tenant=acme&flag#frag`, timeout: 2 });
    expect(await c.ask({ ...Q, nickname: nick })).toEqual({ allowed: true });
    const { url } = lastSeen();
    expect(url.searchParams.get("tenant")).toBe("acme");
    expect(url.searchParams.has("flag")).toBe(true);
    expect(url.searchParams.get("nickname")).toBe(nick);
    expect(url.searchParams.getAll("nickname")).toHaveLength(1);
    expect(url.searchParams.get("userJID")).toBe("romeo@example.org");
    expect(url.search.startsWith("?tenant=acme&flag&userJID=")).toBe(true);
    // Spaces as %20 (not '+', which a plain percent-decoder would keep).
    expect(url.search).toContain("R%26D%20%3D%20fun%3F%20%E2%98%95");
  });

  test("sends the Authorization header when configured", async () => {
    await client("/echo", { authorizationHeader: "Basic dXNlcjpwYXNz" }).ask(Q);
    expect(lastSeen().authorization).toBe("Basic dXNlcjpwYXNz");
  });

  test("sends no Authorization header when none is configured", async () => {
    await client("/echo").ask(Q);
    expect(lastSeen().authorization).toBeNull();
  });
});

describe("AuthClient metrics", () => {
  test("counts requests by outcome and observes latency", async () => {
    const metrics = new Metrics();
    await client("/allow", { metrics }).ask(Q);
    await client("/deny", { metrics }).ask(Q);
    await client("/500-allowed", { metrics }).ask(Q);
    await client("/invalid-json", { metrics }).ask(Q);
    expect(metrics.authRequests.allow.value).toBe(1);
    expect(metrics.authRequests.deny.value).toBe(1);
    expect(metrics.authRequests.failure.value).toBe(2);
    const text = await metrics.render();
    expect(text).toContain("mucgate_auth_request_duration_seconds_count 4");
  });
});

describe("AuthClient options", () => {
  test("are validated once, naming the option", () => {
    expect(() => new AuthClient({ url: "not a url", timeout: 1 })).toThrow(TypeError);
    expect(() => new AuthClient({ url: "not a url", timeout: 1 })).toThrow(/^url: /);
    expect(() => new AuthClient({ url: "ftp://x/", timeout: 1 })).toThrow(/^url: /);
    expect(() => new AuthClient({ url: "http://x/?userJID=a", timeout: 1 })).toThrow(/^url: .*userJID/);
    expect(() => new AuthClient({ url: "http://x/", timeout: 0 })).toThrow(/^timeout: /);
    expect(() => new AuthClient({ url: "http://x/", timeout: Number.NaN })).toThrow(/^timeout: /);
    expect(() => new AuthClient({ url: "http://x/", timeout: 1, authorizationHeader: "a\r\nX-Evil: 1" })).toThrow(
      /^authorizationHeader: /,
    );
    expect(() => new AuthClient({ url: "http://x/", timeout: 1, maxBodyBytes: 0 })).toThrow(/^maxBodyBytes: /);
  });

  test("insecure passes TLS verification off to fetch and warns once at construction", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", { write: (s: string) => void lines.push(s) });
    let tls: unknown;
    const fake: FetchLike = async (_url, init) => {
      tls = init.tls;
      return Response.json({ allowed: true });
    };
    const c = new AuthClient({ url: "https://auth.example/", timeout: 1, insecure: true, fetch: fake, logger, authorizationHeader: "Bearer s3cret" });
    await c.ask(Q);
    await c.ask(Q);
    expect(tls).toEqual({ rejectUnauthorized: false });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn" });
    expect(lines[0]).not.toContain("s3cret");
  });

  test("without insecure, no tls option is passed", async () => {
    let init: RequestInit | undefined;
    const fake: FetchLike = async (_url, i) => {
      init = i;
      return Response.json({ allowed: true });
    };
    await new AuthClient({ url: "https://auth.example/", timeout: 1, fetch: fake }).ask(Q);
    expect(init).toBeDefined();
    expect("tls" in init!).toBe(false);
  });
});

const openssl = spawnSync("openssl", ["version"]).status === 0;

describe.skipIf(!openssl)("AuthClient against a self-signed TLS service", () => {
  let dir: string;
  let tlsServer: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mucgate-tls-"));
    const r = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost"],
      { stdio: "ignore" },
    );
    if (r.status !== 0) throw new Error("openssl failed");
    tlsServer = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: Bun.file(join(dir, "cert.pem")), key: Bun.file(join(dir, "key.pem")) },
      fetch: () => Response.json({ allowed: true }),
    });
  });
  afterAll(() => {
    tlsServer?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("is a TLS failure by default", async () => {
    const a = await new AuthClient({ url: `https://127.0.0.1:${tlsServer.port}/`, timeout: 2 }).ask(Q);
    expect(a).toMatchObject({ allowed: false, failure: true });
    expect((a as { reason: string }).reason).toMatch(/^TLS error/);
  });

  test("is answered with muc_http_auth_insecure", async () => {
    const a = await new AuthClient({ url: `https://127.0.0.1:${tlsServer.port}/`, timeout: 2, insecure: true }).ask(Q);
    expect(a).toEqual({ allowed: true });
  });
});
