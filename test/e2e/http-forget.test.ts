/**
 * `POST /muc_auth/forget` end to end: cached decisions dropped by user, by
 * room, by both, or all, so the next join asks the authorization service
 * again; and the revocation pattern of docs/http-api.md (forget, then kick by
 * jid) keeping a user out once the backend says no.
 *
 * Decisions are kept for a minute here, so every "asked again" is the forget's
 * doing, never an expiry.
 */
import { describe, expect, test } from "bun:test";
import { allow, deny, hang } from "./harness/auth-server.ts";
import { joinPresence, leavePresence, statusCodes, type TestClient } from "./harness/client.ts";
import { expectJoinError, expectJoined, pingService } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const ROOMS = "rooms.localhost";

const rig = useRig({
  mucgates: {
    mucgate: { config: { muc_http_auth_cache_ttl: 60, muc_http_auth_negative_cache_ttl: 60, muc_http_auth_timeout: 20 } },
  },
  // Each test starts from an empty cache (and checks that "all" really empties it).
  afterEach: () => forget({ all: true }),
});

async function post(path: string, body: unknown, authorization: string | null = rig.mucgate.kickAuth): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(`${rig.mucgate.httpUrl}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
async function forget(body: unknown): Promise<number> {
  const res = await post("/muc_auth/forget", body);
  expect(res.status).toBe(200);
  return (res.json as { forgotten: number }).forgotten;
}

/** Join and leave again; returns how many requests the join cost. */
async function visit(client: TestClient, room: string): Promise<number> {
  const nick = client.bareJid.split("@")[0]!;
  const before = rig.auth.requests.length;
  await client.send(joinPresence(`${room}/${nick}`));
  await expectJoined(client, `${room}/${nick}`);
  await client.send(leavePresence(`${room}/${nick}`));
  await client.waitFor({ name: "presence", type: "unavailable", from: `${room}/${nick}` });
  return rig.auth.requests.length - before;
}

describe("forget, then the next join asks again", () => {
  test("by user: every decision about that user, nobody else's", async () => {
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    const [a, b] = [`fu-a@${ROOMS}`, `fu-b@${ROOMS}`];
    expect([await visit(alice, a), await visit(alice, b), await visit(bob, a)]).toEqual([1, 1, 1]);
    // Without a forget, the rejoin is a cache hit.
    expect(await visit(alice, a)).toBe(0);

    expect(await forget({ userJID: "Alice@LocalHost/any-resource" })).toBe(2);
    expect([await visit(alice, a), await visit(alice, b), await visit(bob, a)]).toEqual([1, 1, 0]);
  });

  test("by room: every decision about that room, no other room's", async () => {
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    const [a, b] = [`fr-a@${ROOMS}`, `fr-b@${ROOMS}`];
    expect([await visit(alice, a), await visit(bob, a), await visit(alice, b)]).toEqual([1, 1, 1]);
    expect(await visit(bob, a)).toBe(0);

    expect(await forget({ muc: `FR-A@${ROOMS}` })).toBe(2);
    expect([await visit(alice, a), await visit(bob, a), await visit(alice, b)]).toEqual([1, 1, 0]);
  });

  test("by user and room: that one decision", async () => {
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    const [a, b] = [`fb-a@${ROOMS}`, `fb-b@${ROOMS}`];
    expect([await visit(alice, a), await visit(alice, b), await visit(bob, a)]).toEqual([1, 1, 1]);
    expect(await forget({ userJID: "alice@localhost", muc: a })).toBe(1);
    expect(await forget({ userJID: "alice@localhost", muc: a })).toBe(0);
    expect([await visit(alice, a), await visit(alice, b), await visit(bob, a)]).toEqual([1, 0, 0]);
  });

  test("all: every decision, denials included", async () => {
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    const room = `fa@${ROOMS}`;
    expect(await visit(alice, room)).toBe(1);
    rig.auth.setBehaviour(deny("not bob"));
    await bob.send(joinPresence(`${room}/bob`));
    await expectJoinError(bob, `${room}/bob`);
    rig.auth.setBehaviour(allow());
    expect(await forget({ all: true })).toBe(2);
    expect(await visit(alice, room)).toBe(1);
    expect(await visit(bob, room)).toBe(1); // the denial is gone with the rest: now allowed
  });

  test("a forget while the question is in flight: the waiting join gets its answer, the cache does not keep it", async () => {
    const alice = await rig.client("alice");
    const room = `inflight@${ROOMS}`;
    rig.auth.setBehaviour(hang());
    await alice.send(joinPresence(`${room}/alice`));
    await pingService(alice, ROOMS);
    await rig.auth.waitForRequests(1);
    expect(await forget({ userJID: "alice@localhost" })).toBe(0); // nothing settled yet
    rig.auth.setBehaviour(allow());
    rig.auth.release(allow());
    await expectJoined(alice, `${room}/alice`);
    await alice.send(leavePresence(`${room}/alice`));
    await alice.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` });
    expect(await visit(alice, room)).toBe(1);
  });
});

test("revocation: forget + kick by jid, and the backend's new no keeps the user out", async () => {
  const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
  const room = `revoke@${ROOMS}`;
  await alice.send(joinPresence(`${room}/alice`));
  await expectJoined(alice, `${room}/alice`);
  await bob.send(joinPresence(`${room}/bob`));
  await expectJoined(bob, `${room}/bob`);

  // The backend revokes alice's access; mucgate still holds "allowed" for a minute.
  rig.auth.setBehaviour((r) => (r.userJID === "alice@localhost" ? deny("access revoked") : allow()));
  expect(await forget({ userJID: "alice@localhost", muc: room })).toBe(1);
  const kicked = await post("/muc_kick", { jid: "alice@localhost", muc: room, reason: "Access revoked" });
  expect(kicked).toEqual({ status: 200, json: { kicked: ["alice"], muc: room } });
  const gone = await alice.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` });
  expect(statusCodes(gone)).toEqual(expect.arrayContaining([307, 110]));
  expect(statusCodes(await bob.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` }))).toContain(307);

  // The client's automatic rejoin asks, and is refused.
  const before = rig.auth.requests.length;
  await alice.send(joinPresence(`${room}/alice`));
  const error = await expectJoinError(alice, `${room}/alice`);
  expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
  expect(rig.auth.requests.length - before).toBe(1);
  await bob.expectNothing({ name: "presence", from: `${room}/alice` }, 300);
});

test("the forget route's refusals", async () => {
  expect(await post("/muc_auth/forget", { userJID: "alice@localhost" }, null)).toEqual({ status: 401, json: { error: "Authorization failed" } });
  expect(await post("/muc_auth/forget", { userJID: "alice@localhost" }, "Bearer nope")).toEqual({ status: 401, json: { error: "Authorization failed" } });
  const cases: [unknown, string][] = [
    [{}, "Give userJID and/or muc"],
    [{ user: "alice@localhost" }, "Give userJID and/or muc"],
    [{ all: false }, "Give userJID and/or muc"],
    [{ all: true, muc: `x@${ROOMS}` }, 'Give either "all": true or userJID and/or muc, not both'],
    [{ all: "yes" }, "all must be a boolean"],
    [{ userJID: 5 }, "userJID must be a string"],
    [{ muc: null }, "muc must be a string"],
    [{ userJID: "@@" }, "userJID is not a valid JID"],
    [[], "JSON body must be an object"],
  ];
  for (const [body, error] of cases) {
    expect({ body, ...(await post("/muc_auth/forget", body)) }).toEqual({ body, status: 400, json: { error } });
  }
  const get = await fetch(`${rig.mucgate.httpUrl}/muc_auth/forget`);
  expect(get.status).toBe(405);
});
