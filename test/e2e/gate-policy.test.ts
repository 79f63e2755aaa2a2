/**
 * Which rooms the gate asks about (mod_muc_http_auth's must_be_authorized):
 * `muc_http_auth_enabled_for` / `muc_http_auth_disabled_for`, keyed by the
 * user's host or `all`. The auth service denies everything here, so a join
 * that gets in without a request proves the room is outside the policy.
 */
import { describe, expect, test } from "bun:test";
import { deny } from "./harness/auth-server.ts";
import { joinPresence, stanzaError, type TestClient } from "./harness/client.ts";
import { expectJoinError, isSelfPresence, isSubject } from "./harness/gate-kit.ts";
import { startMucgate } from "./harness/mucgate.ts";
import { useRig } from "./harness/rig.ts";

const OTHER = "other.localhost";
const ENABLED = "enabled.localhost";
const DISABLED = "disabled.localhost";

const rig = useRig({
  prosody: { extraDomains: [OTHER], components: [{ domain: ENABLED }, { domain: DISABLED }] },
  auth: { behaviour: deny("policy test: every asked join is denied") },
  mucgates: {
    enabledGate: { config: { muc_http_auth_enabled_for: { all: ["gated"], [OTHER]: ["staff"] } } },
    disabledGate: { slot: DISABLED, config: { muc_http_auth_disabled_for: { all: ["open"], localhost: ["lounge"] } } },
  },
});

const login = (user: "alice" | "olga") => rig.client(user, user === "olga" ? { domain: OTHER } : {});

/**
 * Joins `room` and returns whether the gate asked: asked → the (denying)
 * service's not-authorized and exactly one request for this user and room;
 * not asked → admitted, and no request at all.
 */
async function joinAsked(client: TestClient, room: string): Promise<boolean> {
  const nick = client.bareJid.split("@")[0]!;
  const before = rig.auth.requests.length;
  await client.send(joinPresence(`${room}/${nick}`));
  const outcome = await client.waitFor(
    (s) => s.name === "presence" && s.attrs.from === `${room}/${nick}` && (s.attrs.type === "error" || s.attrs.type === undefined),
  );
  const requests = rig.auth.requests.slice(before);
  if (outcome.attrs.type === "error") {
    expect(stanzaError(outcome)).toMatchObject({ type: "auth", condition: "not-authorized" });
    expect(requests.map((r) => [r.userJID, r.mucJID])).toEqual([[client.bareJid, room]]);
    return true;
  }
  expect(isSelfPresence(outcome, `${room}/${nick}`)).toBe(true);
  await client.waitFor((s) => isSubject(s, room));
  expect(requests).toEqual([]);
  return false;
}

describe("muc_http_auth_enabled_for = { all = [gated], other.localhost = [staff] }", () => {
  test("a user of localhost is asked about `gated` only", async () => {
    const alice = await login("alice");
    expect(await joinAsked(alice, `gated@${ENABLED}`)).toBe(true);
    expect(await joinAsked(alice, `staff@${ENABLED}`)).toBe(false);
    expect(await joinAsked(alice, `lobby@${ENABLED}`)).toBe(false);
  });

  test("a user of other.localhost is asked about `gated` (all) and `staff` (its host)", async () => {
    const olga = await login("olga");
    expect(await joinAsked(olga, `gated@${ENABLED}`)).toBe(true);
    expect(await joinAsked(olga, `staff@${ENABLED}`)).toBe(true);
    expect(await joinAsked(olga, `lobby@${ENABLED}`)).toBe(false);
  });

  test("the denial on a gated room is the usual not-authorized", async () => {
    const alice = await login("alice");
    await alice.send(joinPresence(`gated@${ENABLED}/again`));
    const error = await expectJoinError(alice, `gated@${ENABLED}/again`);
    expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
  });
});

describe("muc_http_auth_disabled_for = { all = [open], localhost = [lounge] }", () => {
  test("a user of localhost is asked about every room but `open` and `lounge`", async () => {
    const alice = await login("alice");
    expect(await joinAsked(alice, `open@${DISABLED}`)).toBe(false);
    expect(await joinAsked(alice, `lounge@${DISABLED}`)).toBe(false);
    expect(await joinAsked(alice, `secret@${DISABLED}`)).toBe(true);
  });

  test("a user of other.localhost is asked about every room but `open`", async () => {
    const olga = await login("olga");
    expect(await joinAsked(olga, `open@${DISABLED}`)).toBe(false);
    expect(await joinAsked(olga, `lounge@${DISABLED}`)).toBe(true);
    expect(await joinAsked(olga, `secret@${DISABLED}`)).toBe(true);
  });
});

test("both keys set: mucgate refuses to start, exit code 1, the message names the keys", async () => {
  const m = await startMucgate({
    prosody: rig.prosody.slot(ENABLED),
    authUrl: rig.auth.url,
    config: {
      muc_http_auth_enabled_for: { all: ["gated"] },
      muc_http_auth_disabled_for: { all: ["open"] },
    },
    waitForOnline: false,
  });
  try {
    expect(await m.exited).toBe(1);
    const stderr = m.stderr.join("\n");
    expect(stderr).toContain("muc_http_auth_enabled_for");
    expect(stderr).toContain("muc_http_auth_disabled_for");
    expect(stderr).toMatch(/at most one/);
    expect(rig.auth.requests).toEqual([]);
  } finally {
    await m.stop();
  }
});
