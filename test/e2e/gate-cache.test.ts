/**
 * The decision cache end to end: what a rejoin costs, how long allow and deny
 * decisions are reused, that failures are never reused, and what counts as
 * "the same question" (JIDs are case-insensitive, nicks are not).
 *
 * Two mucgates on one Prosody: `long` keeps decisions for a minute (so "reused"
 * can't be an accident of timing), `short` for one second (to see them expire).
 */
import { describe, expect, test } from "bun:test";
import { allow, deny, hang, status } from "./harness/auth-server.ts";
import { joinPresence, leavePresence, type TestClient } from "./harness/client.ts";
import { expectJoinError, expectJoined, joinRoom } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const LONG = "rooms.localhost";
const SHORT = "short.localhost";
const SHORT_TTL_MS = 1000;

const rig = useRig({
  prosody: { components: [{ domain: LONG }, { domain: SHORT }] },
  mucgates: {
    long: { config: { muc_http_auth_cache_ttl: 60, muc_http_auth_negative_cache_ttl: 60, muc_http_auth_timeout: 0.5 } },
    short: {
      slot: SHORT,
      config: {
        muc_http_auth_cache_ttl: SHORT_TTL_MS / 1000,
        muc_http_auth_negative_cache_ttl: SHORT_TTL_MS / 1000,
        muc_http_auth_timeout: 0.5,
      },
    },
  },
});

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
  const last = rig.auth.requests.at(-1)!;
  const wait = last.answeredAt! + ms - Date.now();
  if (wait > 0) await Bun.sleep(wait);
}

describe("allowed decisions", () => {
  test("a rejoin, another session and a second join inside cache_ttl ask nothing; another nick or room does", async () => {
    const alice = await rig.client("alice", "one");
    const room = `reuse@${LONG}`;
    await joinRoom(alice, `${room}/alice`);
    expect(rig.auth.requests).toHaveLength(1);
    // (No muc_http_auth_authorization_header configured here: no Authorization header sent.)
    expect(rig.auth.requests[0]!.headers.authorization).toBeUndefined();

    await leave(alice, `${room}/alice`);
    await joinRoom(alice, `${room}/alice`);
    const phone = await rig.client("alice", "two");
    await joinRoom(phone, `${room}/alice`);
    expect(rig.auth.requests).toHaveLength(1);

    // The key is the exact (user, room, nick): anything else is a new question.
    await joinRoom(alice, `other@${LONG}/alice`);
    await leave(phone, `${room}/alice`);
    await joinRoom(phone, `${room}/Alice`);
    expect(rig.auth.requests.map((r) => [r.mucJID, r.nickname])).toEqual([
      [room, "alice"],
      [`other@${LONG}`, "alice"],
      [room, "Alice"],
    ]);
  });

  test("allow and deny decisions expire after their TTLs: the next join asks again", async () => {
    const [bob, carol] = await Promise.all([rig.client("bob"), rig.client("carol")]);
    const room = `expire@${SHORT}`;
    rig.auth.setBehaviour((r) => (r.nickname === "carol" ? deny("not yet") : allow()));
    await joinRoom(bob, `${room}/bob`);
    await leave(bob, `${room}/bob`);
    await denied(carol, `${room}/carol`);
    expect(rig.auth.requests).toHaveLength(2);
    await untilAnsweredAgo(SHORT_TTL_MS + 300);
    rig.auth.setBehaviour(allow());
    await joinRoom(bob, `${room}/bob`);
    await joinRoom(carol, `${room}/carol`);
    expect(rig.auth.requests.map((r) => r.nickname)).toEqual(["bob", "carol", "bob", "carol"]);
  });
});

describe("denied decisions", () => {
  test("a denial is reused inside negative_cache_ttl: denied again without a request", async () => {
    const carol = await rig.client("carol");
    const room = `no@${LONG}`;
    rig.auth.setBehaviour(deny("carol may not"));
    await denied(carol, `${room}/carol`);
    rig.auth.setBehaviour(allow()); // the backend changed its mind; the cache has not
    await denied(carol, `${room}/carol`);
    await denied(carol, `${room}/carol`);
    expect(rig.auth.requests).toHaveLength(1);
  });
});

test("failures are never reused: 500, then a timeout, then an answer, three requests", async () => {
  const dave = await rig.client("dave");
  const room = `flaky@${LONG}`;
  rig.auth.enqueue(status(500, { allowed: false, error: "db down" }), hang());
  await denied(dave, `${room}/dave`);
  await denied(dave, `${room}/dave`);
  await joinRoom(dave, `${room}/dave`);
  expect(rig.auth.requests).toHaveLength(3);
  expect(rig.auth.requests.map((r) => r.url)).toEqual(Array(3).fill(rig.auth.requests[0]!.url));
});

describe("the same question", () => {
  test("room JIDs are case-insensitive: CaseLobby@, caselobby@ and CASELOBBY@ are one cache entry and one room", async () => {
    const erin = await rig.client("erin");
    const room = `caselobby@${LONG}`;
    for (const spelling of [`CaseLobby@${LONG}`, room, `CASELOBBY@${LONG}`]) {
      await erin.send(joinPresence(`${spelling}/erin`));
      await expectJoined(erin, `${room}/erin`); // the room answers under its normalised JID
      await leave(erin, `${room}/erin`);
    }
    expect(rig.auth.requests.map((r) => r.mucJID)).toEqual([room]);
  });

  test("user JIDs are case-insensitive: logging in as ERIN asks nothing new for erin's decision", async () => {
    const room = `userCase@${LONG}`.toLowerCase();
    const erin = await rig.client("erin");
    await joinRoom(erin, `${room}/erin`);
    await leave(erin, `${room}/erin`);
    const shouting = await rig.client("ERIN");
    await joinRoom(shouting, `${room}/erin`);
    expect(rig.auth.requests.map((r) => r.userJID)).toEqual(["erin@localhost"]);
  });

  test("nicks are case-sensitive: Erin and erin are two questions", async () => {
    const erin = await rig.client("erin");
    const room = `nickcase@${LONG}`;
    await joinRoom(erin, `${room}/erin`);
    await leave(erin, `${room}/erin`);
    await joinRoom(erin, `${room}/Erin`);
    expect(rig.auth.requests.map((r) => r.nickname)).toEqual(["erin", "Erin"]);
  });
});
