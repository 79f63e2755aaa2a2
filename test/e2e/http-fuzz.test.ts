/**
 * A short fuzz burst against mucgate's real HTTP port (the process as users
 * run it, with a real room behind it): a few hundred random requests —
 * methods, paths, Authorization and Content-Type headers, bodies (JSON of
 * every shape, fields of every type, text, bytes, oversized) — sent in
 * concurrent batches, then some raw bytes that are not HTTP at all. Never a
 * 5xx, every error a JSON `{error}`, nothing logged as a bug, and the process
 * is healthy and serving afterwards.
 */
import { beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import fc from "fast-check";
import { joinPresence, statusCodes, type TestClient } from "./harness/client.ts";
import { expectJoined } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const ROOMS = "rooms.localhost";
const ROOM = `fuzz@${ROOMS}`;

const rig = useRig();
let victim: TestClient;

beforeAll(async () => {
  // Someone to kick, so that some fuzzed kicks succeed.
  victim = await rig.connect("victim");
  await victim.send(joinPresence(`${ROOM}/Victim`));
  await expectJoined(victim, `${ROOM}/Victim`);
});

// Header values a fetch can carry: visible ASCII and Latin-1, spaces inside.
const headerText = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x20)).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

const jidish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(ROOM, ROOM.toUpperCase(), `nosuch@${ROOMS}`, `fuzz@elsewhere.example`, ROOMS, `${ROOM}/Victim`, "victim@localhost", "VICTIM@LOCALHOST", "@", "a@b@c", "") },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);
const nickish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("Victim", "victim", "nobody", "", " Victim ") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);
const anyValue = fc.oneof(jidish, nickish, fc.jsonValue({ maxDepth: 3 }), fc.constant(null));
const field = <T>(arb: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: anyValue }), { nil: undefined });

const fields = fc
  .record({
    nickname: field(nickish),
    jid: field(jidish),
    muc: field(jidish),
    userJID: field(jidish),
    reason: field(fc.string({ unit: "binary", maxLength: 80 })),
    all: field(fc.boolean()),
  })
  .map((o) => JSON.stringify(o));

const oversized = fc
  .record({ size: fc.integer({ min: 64 * 1024 - 64, max: 80 * 1024 }), char: fc.constantFrom("x", "é", "{", "\u0000") })
  .map(({ size, char }) => JSON.stringify({ nickname: "Victim", muc: ROOM, reason: char.repeat(size) }));

const body: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  { weight: 6, arbitrary: fields },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 300 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: oversized },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const request = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constant("POST") },
    { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") },
  ),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom("/muc_kick", "/muc_auth/forget") },
    { weight: 1, arbitrary: fc.constantFrom("/health", "/metrics", "/", "/muc_kick/", "/MUC_KICK", "/muc_auth", "/muc_kick?x=1", "/%00", "/..%2f") },
    { weight: 1, arbitrary: fc.webPath() },
  ),
  authorization: fc.oneof(
    { weight: 5, arbitrary: fc.constant<string | undefined>("RIGHT") },
    { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
    { weight: 1, arbitrary: headerText },
  ),
  contentType: fc.oneof(
    { weight: 5, arbitrary: fc.constant<string | undefined>("application/json") },
    {
      weight: 2,
      arbitrary: fc.constantFrom<string | undefined>(
        "application/json; charset=utf-8",
        "APPLICATION/JSON;charset=UTF8",
        'application/json; charset="utf-8"',
        "application/json; charset=latin1",
        "application/json;;;",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
        undefined,
      ),
    },
    { weight: 1, arbitrary: headerText },
  ),
  extraHeaders: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,8}$/), headerText, { maxKeys: 3 }),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

interface Outcome {
  method: string;
  path: string;
  status: number;
  text: string;
}

async function send(r: Req, b: string | Uint8Array | undefined): Promise<Outcome | undefined> {
  const headers: Record<string, string> = { ...r.extraHeaders };
  if (r.authorization !== undefined) headers.authorization = r.authorization === "RIGHT" ? rig.mucgate.kickAuth : r.authorization;
  if (r.contentType !== undefined) headers["content-type"] = r.contentType;
  const withBody = r.method !== "GET" && r.method !== "HEAD" && b !== undefined;
  let res: Response;
  try {
    res = await fetch(`${rig.mucgate.httpUrl}${r.path}`, { method: r.method, headers, ...(withBody ? { body: b } : {}) });
  } catch (err) {
    // fetch refusing to send it (e.g. a header value it won't carry) is not mucgate's answer.
    if (err instanceof TypeError) return undefined;
    throw err;
  }
  return { method: r.method, path: r.path, status: res.status, text: await res.text() };
}

test("a few hundred random requests in concurrent batches: never a 5xx, every error is JSON {error}", async () => {
  const seen = new Map<number, number>();
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(request, body), { minLength: 10, maxLength: 10 }), async (batch) => {
      const outcomes = await Promise.all(batch.map(([r, b]) => send(r, b)));
      for (const o of outcomes) {
        if (!o) continue;
        answered++;
        seen.set(o.status, (seen.get(o.status) ?? 0) + 1);
        expect({ ...o, fiveHundred: o.status >= 500 }).toMatchObject({ fiveHundred: false });
        if (o.method === "HEAD") continue;
        if (o.path.startsWith("/metrics") && o.status === 200) continue;
        const json: unknown = JSON.parse(o.text);
        expect(typeof json).toBe("object");
        if (o.status >= 400) expect(typeof (json as { error?: unknown }).error).toBe("string");
      }
    }),
    { numRuns: 30 },
  );
  expect(answered).toBeGreaterThan(250);
  // The burst reached the interesting answers, not only the early refusals.
  for (const status of [200, 400, 401, 404, 405, 413]) expect(seen.get(status) ?? 0).toBeGreaterThan(0);
});

/** Writes `bytes` on a fresh connection; resolves with whatever came back before close (or 300 ms). */
function rawExchange(port: number, bytes: Uint8Array): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, 300); // an incomplete request may just wait for more
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.includes("\r\n\r\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => socket.end(bytes));
  });
}

const statusOf = (reply: string) => /^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1];

test("raw requests: malformed headers and lying Content-Length never get a 5xx; bytes that are not HTTP at all are turned away by Bun's parser", async () => {
  const port = rig.mucgate.httpPort;
  const encode = (s: string) => new TextEncoder().encode(s);
  // A well-formed request line, then anything: mucgate's answer (or Bun's 4xx) — never a 5xx.
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 200 }).map((junk) => encode(`POST /muc_kick HTTP/1.1\r\nHost: x\r\n${junk}\r\n\r\n`)),
        fc.string({ unit: "binary", maxLength: 200 }).map((junk) =>
          encode(`POST /muc_auth/forget HTTP/1.1\r\nHost: x\r\nAuthorization: ${rig.mucgate.kickAuth}\r\nContent-Type: application/json\r\nContent-Length: ${junk.length}\r\n\r\n${junk}`),
        ),
        fc.nat({ max: 1 << 30 }).map((n) =>
          encode(`POST /muc_kick HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\nAuthorization: ${rig.mucgate.kickAuth}\r\nContent-Type: application/json\r\n\r\n{`),
        ),
      ),
      async (bytes) => {
        const status = statusOf(await rawExchange(port, bytes));
        if (status !== undefined) expect(Number(status)).toBeLessThan(500);
      },
    ),
    { numRuns: 40 },
  );
  // Not HTTP at all: Bun's HTTP parser answers before mucgate's code runs (e.g. 505 for
  // a request line without a version); all that matters is that the process carries on.
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (bytes) => {
      await rawExchange(port, bytes);
    }),
    { numRuns: 20 },
  );
  expect((await rig.mucgate.health()).status).toBe(200);
});

test("afterwards: healthy, nothing logged as a bug, and a real join and kick still work", async () => {
  expect(rig.mucgate.exitCode).toBeNull();
  const health = await rig.mucgate.health();
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
  const bad = rig.mucgate.json().filter((r) => r.level === "error" || String(r.msg).startsWith("bug"));
  expect(bad).toEqual([]);

  const after = await rig.client("after");
  try {
    const room = `after@${ROOMS}`;
    await after.send(joinPresence(`${room}/after`));
    await expectJoined(after, `${room}/after`);
    const res = await rig.mucgate.kick({ nickname: "after", muc: room, reason: "still works" });
    expect(res.status).toBe(200);
    const gone = await after.waitFor({ name: "presence", type: "unavailable", from: `${room}/after` });
    expect(statusCodes(gone)).toContain(307);
  } finally {
    await after.stop();
  }
});
