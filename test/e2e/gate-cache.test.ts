/**
 * The decision cache end to end: what a rejoin costs, how long allow and deny
 * decisions are reused, that failures are never reused, and what counts as
 * "the same question" (JIDs are case-insensitive, nicks are not).
 *
 * Two mucgates on one Prosody: `long` keeps decisions for a minute (so "reused"
 * can't be an accident of timing), `short` for one second (to see them expire).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { allow, deny, hang, startAuthServer, status, type AuthServer } from "./harness/auth-server.ts";
import { connectClient, joinPresence, leavePresence, type TestClient } from "./harness/client.ts";
import { expectJoinError, expectJoined } from "./harness/gate-kit.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { startProsody, type ProsodyServer } from "./harness/prosody.ts";

const LONG = "rooms.localhost";
const SHORT = "short.localhost";
const SHORT_TTL_MS = 1000;

let prosody: ProsodyServer;
let auth: AuthServer;
let long: MucgateProcess;
let short: MucgateProcess;

beforeAll(async () => {
  prosody = await startProsody({ components: [{ domain: LONG }, { domain: SHORT }] });
  prosody.registerMany(["alice", "bob", "carol", "dave", "erin"].map((user) => ({ user, password: "pw" })));
  auth = startAuthServer();
  [long, short] = await Promise.all([
    startMucgate({
      prosody: prosody.slot(LONG),
      authUrl: auth.url,
      config: { muc_http_auth_cache_ttl: 60, muc_http_auth_negative_cache_ttl: 60, muc_http_auth_timeout: 0.5 },
    }),
    startMucgate({
      prosody: prosody.slot(SHORT),
      authUrl: auth.url,
      config: {
        muc_http_auth_cache_ttl: SHORT_TTL_MS / 1000,
        muc_http_auth_negative_cache_ttl: SHORT_TTL_MS / 1000,
        muc_http_auth_timeout: 0.5,
      },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([long?.stop(), short?.stop()]);
  await auth?.stop();
  await prosody?.stop();
});

const clients: TestClient[] = [];
async function login(user: string, resource?: string): Promise<TestClient> {
  const c = await connectClient({ server: prosody, username: user, password: "pw", ...(resource ? { resource } : {}) });
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  auth.reset();
});

async function join(client: TestClient, occupantJid: string): Promise<void> {
  await client.send(joinPresence(occupantJid));
  await expectJoined(client, occupantJid);
}

async function leave(client: TestClient, occupantJid: string): Promise<void> {
  await client.send(leavePresence(occupantJid));
  await client.waitFor({ name: "presence", type: "unavailable", from: occupantJid });
}

async function denied(client: TestClient, occupantJid: string): Promise<void> {
  await client.send(joinPresence(occupantJid));
  const e = await expectJoinError(client, occupantJid);
  expect([e.type, e.condition]).toEqual(["auth", "not-authorized"]);
}

/** Sleep until `ms` have passed since the last request to the auth service was answered. */
async function untilAnsweredAgo(ms: number): Promise<void> {
  const last = auth.requests.at(-1)!;
  const wait = last.answeredAt! + ms - Date.now();
  if (wait > 0) await Bun.sleep(wait);
}

describe("allowed decisions", () => {
  test("a rejoin, another session and a second join inside cache_ttl ask nothing; another nick or room does", async () => {
    const alice = await login("alice", "one");
    const room = `reuse@${LONG}`;
    await join(alice, `${room}/alice`);
    expect(auth.requests).toHaveLength(1);
    // (No muc_http_auth_authorization_header configured here: no Authorization header sent.)
    expect(auth.requests[0]!.headers.authorization).toBeUndefined();

    await leave(alice, `${room}/alice`);
    await join(alice, `${room}/alice`);
    const phone = await login("alice", "two");
    await join(phone, `${room}/alice`);
    expect(auth.requests).toHaveLength(1);

    // The key is the exact (user, room, nick): anything else is a new question.
    await join(alice, `other@${LONG}/alice`);
    await leave(phone, `${room}/alice`);
    await join(phone, `${room}/Alice`);
    expect(auth.requests.map((r) => [r.mucJID, r.nickname])).toEqual([
      [room, "alice"],
      [`other@${LONG}`, "alice"],
      [room, "Alice"],
    ]);
  });

  test("allow and deny decisions expire after their TTLs: the next join asks again", async () => {
    const [bob, carol] = await Promise.all([login("bob"), login("carol")]);
    const room = `expire@${SHORT}`;
    auth.setBehaviour((r) => (r.nickname === "carol" ? deny("not yet") : allow()));
    await join(bob, `${room}/bob`);
    await leave(bob, `${room}/bob`);
    await denied(carol, `${room}/carol`);
    expect(auth.requests).toHaveLength(2);
    await untilAnsweredAgo(SHORT_TTL_MS + 300);
    auth.setBehaviour(allow());
    await join(bob, `${room}/bob`);
    await join(carol, `${room}/carol`);
    expect(auth.requests.map((r) => r.nickname)).toEqual(["bob", "carol", "bob", "carol"]);
  });
});

describe("denied decisions", () => {
  test("a denial is reused inside negative_cache_ttl: denied again without a request", async () => {
    const carol = await login("carol");
    const room = `no@${LONG}`;
    auth.setBehaviour(deny("carol may not"));
    await denied(carol, `${room}/carol`);
    auth.setBehaviour(allow()); // the backend changed its mind; the cache has not
    await denied(carol, `${room}/carol`);
    await denied(carol, `${room}/carol`);
    expect(auth.requests).toHaveLength(1);
  });
});

test("failures are never reused: 500, then a timeout, then an answer, three requests", async () => {
  const dave = await login("dave");
  const room = `flaky@${LONG}`;
  auth.enqueue(status(500, { allowed: false, error: "db down" }), hang());
  await denied(dave, `${room}/dave`);
  await denied(dave, `${room}/dave`);
  await join(dave, `${room}/dave`);
  expect(auth.requests).toHaveLength(3);
  expect(auth.requests.map((r) => r.url)).toEqual(Array(3).fill(auth.requests[0]!.url));
});

describe("the same question", () => {
  test("room JIDs are case-insensitive: CaseLobby@, caselobby@ and CASELOBBY@ are one cache entry and one room", async () => {
    const erin = await login("erin");
    const room = `caselobby@${LONG}`;
    for (const spelling of [`CaseLobby@${LONG}`, room, `CASELOBBY@${LONG}`]) {
      await erin.send(joinPresence(`${spelling}/erin`));
      await expectJoined(erin, `${room}/erin`); // the room answers under its normalised JID
      await leave(erin, `${room}/erin`);
    }
    expect(auth.requests.map((r) => r.mucJID)).toEqual([room]);
  });

  test("user JIDs are case-insensitive: logging in as ERIN asks nothing new for erin's decision", async () => {
    const room = `userCase@${LONG}`.toLowerCase();
    const erin = await login("erin");
    await join(erin, `${room}/erin`);
    await leave(erin, `${room}/erin`);
    const shouting = await connectClient({ server: prosody, username: "ERIN", password: "pw" });
    clients.push(shouting);
    await join(shouting, `${room}/erin`);
    expect(auth.requests.map((r) => r.userJID)).toEqual(["erin@localhost"]);
  });

  test("nicks are case-sensitive: Erin and erin are two questions", async () => {
    const erin = await login("erin");
    const room = `nickcase@${LONG}`;
    await join(erin, `${room}/erin`);
    await leave(erin, `${room}/erin`);
    await join(erin, `${room}/Erin`);
    expect(auth.requests.map((r) => r.nickname)).toEqual(["erin", "Erin"]);
  });
});
