import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { Affiliation } from "../../src/muc/occupant.ts";
import { Turn } from "../../src/muc/turn.ts";
import { DOMAIN, errorCondition, fixture, statuses } from "./fixture.ts";

/**
 * The checks at a join (docs/join-checks.md) against a model: for any room
 * kind (members-only, password, maxusers), head count, joiner affiliation,
 * whether the joiner is a service admin and already in as many rooms as
 * max_user_conferences allows, password given and nick, the outcome is the
 * first check that refuses, in the documented order — members-only, rooms
 * per user (service admins exempt), password, room full (owners, admins and
 * service admins exempt), nick taken — or the join.
 */

const ROOM = `k@${DOMAIN}`;
const OWNER = "owner@o.test/x";

interface Case {
  membersOnly: boolean;
  password: "" | "pw";
  maxUsers: number;
  others: number;
  affiliation: Exclude<Affiliation, "outcast">;
  given: "none" | "wrong" | "right";
  takenNick: boolean;
  serviceAdmin: boolean;
  /** The joiner is in another room already, and max_user_conferences is 1. */
  inAnotherRoom: boolean;
}

const cases: fc.Arbitrary<Case> = fc.record({
  membersOnly: fc.boolean(),
  password: fc.constantFrom("" as const, "pw" as const),
  maxUsers: fc.integer({ min: 0, max: 4 }),
  others: fc.integer({ min: 0, max: 3 }),
  affiliation: fc.constantFrom("none" as const, "member" as const, "admin" as const, "owner" as const),
  given: fc.constantFrom("none" as const, "wrong" as const, "right" as const),
  takenNick: fc.boolean(),
  serviceAdmin: fc.boolean(),
  inAnotherRoom: fc.boolean(),
});

function expected(c: Case): string {
  if (c.membersOnly && c.affiliation === "none") return "registration-required";
  if (c.inAnotherRoom && !c.serviceAdmin) return "resource-constraint";
  if (c.password !== "" && c.given !== "right") return "not-authorized";
  const occupants = 1 + c.others; // the owner and the others
  const exempt = c.affiliation === "admin" || c.affiliation === "owner" || c.serviceAdmin;
  if (c.maxUsers !== 0 && occupants >= c.maxUsers && !exempt && !c.takenNick) return "service-unavailable";
  if (c.takenNick) return "conflict";
  return "entered";
}

describe("join checks (property)", () => {
  test("the outcome is the model's, for every combination", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const f = fixture({ settings: { maxUserConferences: 1, admins: new Set(c.serviceAdmin ? ["joiner@j.test"] : []) } });
        f.join(OWNER, "k", "Owner");
        if (c.inAnotherRoom) f.join("joiner@j.test/x", "elsewhere", "Joiner");
        const room = f.service.room(ROOM)!;
        // Members first: a members-only room removes the others otherwise.
        for (let i = 0; i < c.others; i++) room.setAffiliation(`o${i}@o.test`, "member", {}, new Turn(f.now()));
        for (let i = 0; i < c.others; i++) f.join(`o${i}@o.test/x`, "k", `O${i}`);
        const fields: Record<string, string> = { "muc#roomconfig_membersonly": c.membersOnly ? "1" : "0" };
        if (c.password) fields["muc#roomconfig_roomsecret"] = c.password;
        fields["muc#roomconfig_maxusers"] = c.maxUsers === 0 ? "none" : String(c.maxUsers);
        expect(f.configure(OWNER, "k", fields)[0]!.attrs.type).toBe("result");
        if (c.affiliation !== "none") room.setAffiliation("joiner@j.test", c.affiliation, {}, new Turn(f.now()));
        const pw = c.given === "none" ? "" : `<password>${c.given === "right" ? c.password || "pw" : "nope"}</password>`;
        const out = f.join("joiner@j.test/x", "k", c.takenNick ? "Owner" : "Joiner", pw);
        const self = out.find((s) => s.name === "presence" && s.attrs.type !== "error" && statuses(s).includes("110"));
        const outcome = self ? "entered" : errorCondition(out[0]!);
        expect(outcome).toBe(expected(c));
      }),
      { numRuns: 300 },
    );
  });
});
