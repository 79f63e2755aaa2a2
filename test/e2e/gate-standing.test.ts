/**
 * The authorization answer's `affiliation` and `role` end to end (README
 * "Join authorization"): real Prosody, real clients, the test authorization
 * service answering them, mucgate as a process. What the joiner and the
 * room see, and that an invalid value denies.
 */
import { describe, expect, test } from "bun:test";
import { allow } from "./harness/auth-server.ts";
import { joinPresence } from "./harness/client.ts";
import { expectJoinError, expectJoined, joinRoom, mucItem } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const ROOMS = "rooms.localhost";

const rig = useRig({ prosody: { components: [{ domain: ROOMS }] }, mucgates: { main: {} } });

describe("the answer's standing", () => {
  test("affiliation admin and role moderator from the backend: the joiner and the room see them", async () => {
    const [olga, alice] = await Promise.all([rig.client("olga"), rig.client("alice")]);
    const room = `standing@${ROOMS}`;
    rig.auth.setBehaviour((r) => (r.nickname === "alice" ? allow({ affiliation: "admin", role: "moderator" }) : allow()));
    await joinRoom(olga, `${room}/olga`);
    await alice.send(joinPresence(`${room}/alice`));
    const self = await expectJoined(alice, `${room}/alice`);
    expect(mucItem(self)).toMatchObject({ affiliation: "admin", role: "moderator" });
    const seen = await olga.waitFor({ name: "presence", from: `${room}/alice` });
    expect(mucItem(seen)).toMatchObject({ affiliation: "admin", role: "moderator" });
  });

  test("a visitor role from the backend: the occupant joins as visitor, affiliation none", async () => {
    const vic = await rig.client("vic");
    const room = `visitors@${ROOMS}`;
    rig.auth.setBehaviour(allow({ affiliation: "none", role: "visitor" }));
    await vic.send(joinPresence(`${room}/vic`));
    const self = await expectJoined(vic, `${room}/vic`);
    expect(mucItem(self)).toMatchObject({ affiliation: "none", role: "visitor" });
  });

  test("an invalid role denies the join (fail closed) and is logged", async () => {
    const bad = await rig.client("bad");
    const room = `invalid@${ROOMS}`;
    rig.auth.setBehaviour(allow({ role: "god" }));
    await bad.send(joinPresence(`${room}/bad`));
    const e = await expectJoinError(bad, `${room}/bad`);
    expect([e.type, e.condition]).toEqual(["auth", "not-authorized"]);
    const m = rig.mucgate;
    await m.waitForLog((line) => line.includes("invalid role") && line.includes("god"));
  });
});
