/**
 * Join authorization end to end (README "Join authorization"):
 * real Prosody, real clients, a real HTTP authorization service, mucgate as
 * a process. What mucgate asks, and what every kind of answer does to a join.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { allow, deny, hang, raw, slow, stall, status, type Behaviour } from "./harness/auth-server.ts";
import { groupchat, joinPresence, xml } from "./harness/client.ts";
import { expectJoinError, expectJoined, isSelfPresence } from "./harness/gate-kit.ts";
import type { MucgateProcess } from "./harness/mucgate.ts";
import { freePort } from "./harness/ports.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";

const ROOMS = "rooms.localhost";
const REFUSED = "refused.localhost";
const AUTH_HEADER = "Bearer gate-join-Äuth token";
const TIMEOUT_S = 0.5;

/** An auth URL port handed out to nobody else; nothing listens on it. */
let closedPort: number;
beforeAll(async () => {
  closedPort = await freePort();
});

const rig = useRig({
  prosody: { components: [{ domain: ROOMS }, { domain: REFUSED }] },
  mucgates: {
    main: {
      // The URL's own query string must survive, unchanged, before ours.
      authUrl: (url) => `${url}?tenant=t%201&flag`,
      config: { muc_http_auth_authorization_header: AUTH_HEADER, muc_http_auth_timeout: TIMEOUT_S },
    },
    /** Its auth URL is a closed port. */
    refused: { slot: REFUSED, authUrl: () => `http://127.0.0.1:${closedPort}/auth`, config: { muc_http_auth_timeout: 5 } },
  },
});

/** mucgate's log records whose text mentions `needle`. */
function logRecordsWith(m: MucgateProcess, needle: string): Record<string, unknown>[] {
  return m.json().filter((r) => JSON.stringify(r).includes(needle));
}

/** The one "join denied" record for this user and room (waits for it: pino writes asynchronously). */
async function deniedRecord(m: MucgateProcess, user: string, room: string): Promise<Record<string, unknown>> {
  const matches = (line: string) => line.includes('"join denied"') && line.includes(`"user":"${user}"`) && line.includes(`"room":"${room}"`);
  await m.waitForLog(matches);
  const records = m.json().filter((r) => r.msg === "join denied" && r.user === user && r.room === room);
  expect(records).toHaveLength(1);
  return records[0]!;
}

describe("the request", () => {
  test("GET url?<its own query>&userJID=<bare>&mucJID=<room>&nickname=<nick>, URL-encoded, with the Authorization header", async () => {
    const alice = await rig.client("alice", "desk");
    const nick = "Zoë & co=1?/#+%";
    const room = `shape@${ROOMS}`;
    await alice.send(joinPresence(`${room}/${nick}`));
    await expectJoined(alice, `${room}/${nick}`);

    expect(rig.auth.requests).toHaveLength(1);
    const r = rig.auth.requests[0]!;
    expect(r.method).toBe("GET");
    expect(r.path).toBe("/auth");
    expect(r.url).toBe(
      "/auth?tenant=t%201&flag&userJID=alice%40localhost&mucJID=shape%40rooms.localhost" +
        "&nickname=Zo%C3%AB%20%26%20co%3D1%3F%2F%23%2B%25",
    );
    // Decoded: the bare JID (no resource), the room's bare JID, the nick as sent.
    expect(r.query).toEqual({ tenant: "t 1", flag: "", userJID: "alice@localhost", mucJID: room, nickname: nick });
    expect(r.headers.authorization).toBe(AUTH_HEADER);
  });
});

describe("allow and deny", () => {
  test("allowed: the user joins and the occupants see it", async () => {
    const [bob, carol] = await Promise.all([rig.client("bob"), rig.client("carol")]);
    const room = `allowed@${ROOMS}`;
    await bob.send(joinPresence(`${room}/bob`));
    await expectJoined(bob, `${room}/bob`);
    await carol.send(joinPresence(`${room}/carol`));
    await expectJoined(carol, `${room}/carol`);
    await bob.waitFor({ name: "presence", from: `${room}/carol`, type: "" });
    expect(rig.auth.requests.map((r) => r.nickname)).toEqual(["bob", "carol"]);
  });

  test("denied: not-authorized to the joiner only, the reason only in mucgate's log, nothing of the room either way", async () => {
    const [bob, alice] = await Promise.all([rig.client("bob"), rig.client("alice")]);
    const room = `denied@${ROOMS}`;
    // bob makes the room interesting: roster, history, subject.
    await bob.send(joinPresence(`${room}/bob`));
    await expectJoined(bob, `${room}/bob`);
    await bob.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "the secret plans")));
    await bob.waitFor({ name: "message", from: `${room}/bob` });
    await bob.send(groupchat(room, "history for occupants only"));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "history for occupants only");

    const reason = "reason-only-for-the-log-7c1f";
    rig.auth.setBehaviour((r) => (r.userJID === "alice@localhost" ? deny(reason) : allow()));
    const bobMark = bob.mark();
    await alice.send(joinPresence(`${room}/alice`));
    const error = await expectJoinError(alice, `${room}/alice`);
    expect(error.type).toBe("auth");
    expect(error.condition).toBe("not-authorized");

    // Nothing more arrives: no roster, history or subject for alice; nothing of alice for bob.
    await Promise.all([
      alice.expectNothing((s) => (s.attrs.from ?? "").startsWith(room), 400),
      bob.expectNothing(() => true, 400),
    ]);
    const fromRoom = alice.stanzas.filter((s) => (s.attrs.from ?? "").startsWith(room));
    expect(fromRoom).toEqual([error.stanza]);
    for (const s of alice.stanzas) expect(s.toString()).not.toContain(reason);
    expect(bob.stanzas.length).toBe(bobMark);

    // One JSON line carries the service's error text.
    const record = await deniedRecord(rig.mucgate, "alice@localhost", room);
    expect(record).toMatchObject({ level: "info", nick: "alice", kind: "join", reason, failure: false });
    expect(logRecordsWith(rig.mucgate, reason)).toHaveLength(1);

    // The room still shows bob alone.
    await bob.send(groupchat(room, "still here"));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "still here");
  });
});

describe("stricter than mod_muc_http_auth: only 2xx with allowed === true admits", () => {
  const cases: { name: string; user: string; answer: Behaviour; reason: RegExp }[] = [
    { name: "500 with {allowed: true}", user: "carol", answer: status(500, { allowed: true }), reason: /^HTTP 500/ },
    { name: "invalid JSON", user: "dave", answer: raw("{allowed: true"), reason: /^invalid JSON$/ },
    { name: 'allowed: "true" (a string)', user: "erin", answer: status(200, { allowed: "true" }), reason: /^allowed is not a boolean/ },
    { name: "a JSON array", user: "frank", answer: raw("[true]"), reason: /^not a JSON object$/ },
    { name: "a redirect", user: "grace", answer: status(302, { allowed: true }), reason: /^HTTP 302/ },
    {
      name: "an answer over 64 KiB",
      user: "alice",
      answer: raw(JSON.stringify({ allowed: true, pad: "x".repeat(100 * 1024) })),
      reason: /^body over 65536 bytes$/,
    },
    {
      name: "headers, then a body that stalls past the timeout",
      user: "bob",
      answer: stall('{"allowed": tr'),
      reason: new RegExp(`^timeout after ${TIMEOUT_S}s$`),
    },
  ];
  for (const c of cases) {
    test(`${c.name} → denied, logged as a failure, and not cached`, async () => {
      const client = await rig.client(c.user);
      const room = `strict-${c.user}@${ROOMS}`;
      rig.auth.enqueue(c.answer);
      await client.send(joinPresence(`${room}/${c.user}`));
      const error = await expectJoinError(client, `${room}/${c.user}`);
      expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
      const record = await deniedRecord(rig.mucgate, `${c.user}@localhost`, room);
      expect(record.failure).toBe(true);
      expect(String(record.reason)).toMatch(c.reason);

      // A failure is never cached: the same join asks again (and is allowed now).
      await client.send(joinPresence(`${room}/${c.user}`));
      await expectJoined(client, `${room}/${c.user}`);
      expect(rig.auth.requests).toHaveLength(2);
    });
  }

  test("a service hanging past muc_http_auth_timeout → denied within the timeout (+ slack), reason logged, not cached", async () => {
    const heidi = await rig.client("heidi");
    const room = `hang@${ROOMS}`;
    rig.auth.enqueue(hang());
    const started = performance.now();
    await heidi.send(joinPresence(`${room}/heidi`));
    const error = await expectJoinError(heidi, `${room}/heidi`, 5000);
    const elapsed = performance.now() - started;
    expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_S * 1000 + 2000);
    expect(rig.auth.requests).toHaveLength(1);
    expect(rig.auth.requests[0]!.answeredAt).toBeUndefined();
    const record = await deniedRecord(rig.mucgate, "heidi@localhost", room);
    expect(record).toMatchObject({ failure: true, reason: `timeout after ${TIMEOUT_S}s` });

    await heidi.send(joinPresence(`${room}/heidi`));
    await expectJoined(heidi, `${room}/heidi`);
    expect(rig.auth.requests).toHaveLength(2);
  });

  test("a slow answer within the timeout → allowed", async () => {
    const ivan = await rig.client("ivan");
    const room = `slow@${ROOMS}`;
    rig.auth.enqueue(slow(120, allow()));
    const started = performance.now();
    await ivan.send(joinPresence(`${room}/ivan`));
    await expectJoined(ivan, `${room}/ivan`, 5000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(rig.auth.requests[0]!.answeredAt! - rig.auth.requests[0]!.receivedAt).toBeGreaterThanOrEqual(110);
  });

  test("connection refused (auth URL on a closed port) → denied, reason logged", async () => {
    const judy = await rig.client("judy");
    const room = `refused@${REFUSED}`;
    await judy.send(joinPresence(`${room}/judy`));
    const error = await expectJoinError(judy, `${room}/judy`);
    expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
    const record = await deniedRecord(rig.mucgates.refused, "judy@localhost", room);
    expect(record).toMatchObject({ failure: true, reason: `connection refused: http://127.0.0.1:${closedPort}` });
    expect(JSON.stringify(record)).not.toContain("userJID=");
  });

  test("a hanging service never holds up other joins beyond the timeout", async () => {
    const stuck = await Promise.all(["alice", "bob", "carol"].map((u) => rig.client(u)));
    const dave = await rig.client("dave");
    rig.auth.setBehaviour((r) => (r.mucJID === `stuck@${ROOMS}` ? hang() : allow()));
    const started = performance.now();
    for (const c of stuck) await c.send(joinPresence(`stuck@${ROOMS}/${c.bareJid.split("@")[0]}`));
    await rig.auth.waitForRequests(3);

    // Another join, while those three hang, is not held up by them.
    const daveStarted = performance.now();
    await dave.send(joinPresence(`free@${ROOMS}/dave`));
    await expectJoined(dave, `free@${ROOMS}/dave`);
    expect(performance.now() - daveStarted).toBeLessThan(TIMEOUT_S * 1000 + 2000);

    // And each stuck join is refused once its own timeout runs out.
    const errors = await Promise.all(
      stuck.map((c) => expectJoinError(c, `stuck@${ROOMS}/${c.bareJid.split("@")[0]}`, 5000)),
    );
    expect(performance.now() - started).toBeLessThan(TIMEOUT_S * 1000 + 2500);
    // mucgate gave up on each of them (closed its requests).
    await waitUntil(() => rig.auth.inFlight === 0, { timeout: 2000, describe: () => `${rig.auth.inFlight} requests still open` });
    for (const e of errors) expect(e.condition).toBe("not-authorized");
    for (const c of stuck) expect(c.stanzas.some((s) => isSelfPresence(s, `stuck@${ROOMS}/${c.bareJid.split("@")[0]}`))).toBe(false);
  });
});
