import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { Affiliation, Role } from "../../src/muc/occupant.ts";
import { Turn } from "../../src/muc/turn.ts";
import { DOMAIN, MUC_ADMIN, errorCondition, fixture } from "./fixture.ts";

/**
 * The privilege tables of XEP-0045 §5.1 and §5.2, with the error conditions
 * of §8–§10, as a model written from the XEP's text — checked against the
 * service through muc#admin for every actor × target × requested change.
 */

type Outcome = "allowed" | "forbidden" | "not-allowed" | "conflict" | "not-acceptable" | "item-not-found";

const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "none", "outcast"];
const PRESENT_ROLES: readonly Exclude<Role, "none">[] = ["moderator", "participant", "visitor"];
const LEVEL: Record<Affiliation, number> = { outcast: 0, none: 1, member: 2, admin: 3, owner: 4 };

// §5.2 table "Privileges Associated With Affiliations": who edits which list.
// The "none" affiliation is no list; outcasts are the ban list.
const EDITED_BY: Record<Affiliation, readonly Affiliation[]> = {
  outcast: ["admin", "owner"], // "Ban Members and Unaffiliated Users"
  none: [],
  member: ["admin", "owner"], // "Edit Member List"
  admin: ["owner"], // "Edit Admin List"
  owner: ["owner"], // "Edit Owner List"
};

/** §9.1–§9.5, §10.3–§10.7 for one affiliation change. */
function affiliationModel(actor: Affiliation, from: Affiliation, to: Affiliation, self: boolean, lastOwner: boolean): Outcome {
  // §9 intro: "MUST be denied if the <user@host> … does not match the bare JID of one of the room admins … forbidden".
  if (actor !== "admin" && actor !== "owner") return "forbidden";
  // §9.1: "If an admin or owner attempts to ban himself, the service MUST deny the request and return a <conflict/>".
  if (self && to === "outcast") return "conflict";
  // §9.1: "a user cannot be banned by an admin with a lower affiliation" (nor, §9.2, in any way §9.1 prohibits: not-allowed).
  if (to === "outcast" && actor === "admin" && LEVEL[from] >= LEVEL.admin) return "not-allowed";
  // Removing someone from a list and adding them to another edits both.
  const editors = [EDITED_BY[from], EDITED_BY[to]].filter((l) => l.length > 0);
  if (!editors.every((l) => l.includes(actor))) return "forbidden";
  // §10.6: "A service MUST NOT allow an owner to revoke his or her own owner status if there are no other owners … <conflict/>".
  if (from === "owner" && to !== "owner" && lastOwner) return "conflict";
  return "allowed";
}

/** §5.1.3 table 4 "Role State Chart", with §8.2, §8.4, §9.7's restrictions, for one role change. */
function roleModel(actor: { aff: Affiliation; role: Role }, target: { aff: Affiliation; role: Role }, to: Role): Outcome {
  const adminOrOwner = (a: Affiliation) => a === "admin" || a === "owner";
  // §8 intro: "MUST be denied if the <user@host> … does not match the bare JID portion of one of the moderators … forbidden".
  if (actor.role !== "moderator") return "forbidden";
  if (to === "none") {
    // §8.2: "A user cannot be kicked by a moderator with a lower affiliation" (owners and admins not by their equals either).
    if (LEVEL[target.aff] > LEVEL[actor.aff]) return "not-allowed";
    if (adminOrOwner(target.aff) && LEVEL[target.aff] >= LEVEL[actor.aff]) return "not-allowed";
    // Table 4: Moderator → None "be kicked by an admin or owner".
    if (target.role === "moderator" && !adminOrOwner(actor.aff)) return "forbidden";
    return "allowed";
  }
  // Table 4: to or from Moderator is "Admin or owner grants / changes role"; §9 intro: forbidden otherwise.
  if (to === "moderator" || target.role === "moderator") {
    if (!adminOrOwner(actor.aff)) return "forbidden";
    // §9.7: "moderator status cannot be revoked from a room owner or room admin … <not-allowed/>".
    if (target.role === "moderator" && adminOrOwner(target.aff)) return "not-allowed";
    return "allowed";
  }
  if (to === "visitor") {
    // §8.4: "A moderator MUST NOT be able to revoke voice from a user whose affiliation is at or above the
    // moderator's level. In addition, a service MUST NOT allow the voice privileges of an admin or owner to be removed by anyone."
    if (adminOrOwner(target.aff) || LEVEL[target.aff] >= LEVEL[actor.aff]) return "not-allowed";
    return "allowed";
  }
  // Table 4: Visitor → Participant "Moderator grants voice".
  return "allowed";
}

const ROOM = `den@${DOMAIN}`;
const ACTOR = { full: "actor@x.test/r", bare: "actor@x.test", nick: "Actor" };
const TARGET = { full: "target@y.test/r", bare: "target@y.test", nick: "Target" };
const KEEPER = { full: "keeper@k.test/r", bare: "keeper@k.test", nick: "Keeper" };

const party = fc
  .record({ aff: fc.constantFrom(...AFFILIATIONS), present: fc.boolean(), role: fc.constantFrom(...PRESENT_ROLES) })
  .map((p) => ({ ...p, present: p.present && p.aff !== "outcast" }));

const scenario = fc.record({
  actor: party,
  target: party,
  self: fc.boolean(),
  /** Another owner (who stays in the room) besides actor and target. */
  otherOwner: fc.boolean(),
  request: fc.oneof(
    fc.record({ kind: fc.constant("role" as const), role: fc.constantFrom<Role>("moderator", "participant", "visitor", "none") }),
    fc.record({ kind: fc.constant("affiliation" as const), affiliation: fc.constantFrom(...AFFILIATIONS) }),
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Builds the room the scenario describes, sends the request, and reports what happened. */
function run(s: Scenario) {
  const target = s.self ? s.actor : s.target;
  const targetUser = s.self ? ACTOR : TARGET;
  const owners = [s.actor.aff, ...(s.self ? [] : [target.aff])].filter((a) => a === "owner").length;
  const otherOwner = s.otherOwner || owners === 0; // a room always has an owner
  const f = fixture();
  f.join(KEEPER.full, "den", KEEPER.nick);
  const room = f.service.room(ROOM)!;
  const turn = new Turn(0);
  for (const [user, p] of s.self ? ([[ACTOR, s.actor]] as const) : ([[ACTOR, s.actor], [TARGET, s.target]] as const)) {
    if (p.aff !== "none") room.setAffiliation(user.bare, p.aff, {}, turn);
    if (p.present) {
      f.join(user.full, "den", user.nick);
      room.setRole(room.occupants.get(user.nick)!, p.role, {}, turn);
    }
  }
  if (!otherOwner) room.setAffiliation(KEEPER.bare, "none", {}, turn);
  const before = { aff: room.affiliations.get(targetUser.bare)?.affiliation ?? "none", role: room.occupants.get(targetUser.nick)?.role ?? "none" };
  const item =
    s.request.kind === "role" ? `<item nick='${targetUser.nick}' role='${s.request.role}'/>` : `<item jid='${targetUser.bare}' affiliation='${s.request.affiliation}'/>`;
  const reply = f.iq(ACTOR.full, ROOM, "set", `<query xmlns='${MUC_ADMIN}'>${item}</query>`).find((x) => x.name === "iq")!;
  const outcome = (reply.attrs.type === "result" ? "allowed" : errorCondition(reply)) as Outcome;
  const after = { aff: room.affiliations.get(targetUser.bare)?.affiliation ?? "none", role: room.occupants.get(targetUser.nick)?.role ?? "none" };
  return { outcome, before, after, target, lastOwner: !otherOwner && owners === 1 };
}

function expected(s: Scenario, target: Scenario["actor"], lastOwner: boolean): Outcome {
  if (s.request.kind === "affiliation") return affiliationModel(s.actor.aff, target.aff, s.request.affiliation, s.self, lastOwner);
  // §8: roles are an occupant's, changed by an occupant.
  if (!s.actor.present) return "not-acceptable";
  if (!target.present) return "item-not-found";
  return roleModel({ aff: s.actor.aff, role: s.actor.role }, { aff: target.aff, role: target.role }, s.request.role);
}

describe("the §5 privilege tables", () => {
  test("every actor × target × requested change has the outcome the XEP's tables give, and changes the room only when allowed", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const target = s.self ? s.actor : s.target;
        // Only changes: asking for what already is is no transition of the tables.
        fc.pre(s.request.kind === "role" ? !target.present || s.request.role !== target.role : s.request.affiliation !== target.aff);
        const { outcome, before, after, lastOwner } = run(s);
        expect(outcome).toBe(expected(s, target, lastOwner));
        if (outcome !== "allowed") expect(after).toEqual(before);
        else if (s.request.kind === "affiliation") expect(after.aff).toBe(s.request.affiliation);
        else expect(after.role).toBe(s.request.role);
      }),
      { numRuns: 1000 },
    );
  });

  test("exhaustively: every table cell, each once (the random runs above may miss a rare one)", () => {
    const parties: Scenario["actor"][] = [];
    for (const aff of AFFILIATIONS) {
      parties.push({ aff, present: false, role: "participant" });
      if (aff !== "outcast") for (const role of PRESENT_ROLES) parties.push({ aff, present: true, role });
    }
    const requests: Scenario["request"][] = [
      ...(["moderator", "participant", "visitor", "none"] as const).map((role) => ({ kind: "role" as const, role })),
      ...AFFILIATIONS.map((affiliation) => ({ kind: "affiliation" as const, affiliation })),
    ];
    let cells = 0;
    for (const actor of parties) for (const target of parties) for (const self of [false, true]) for (const otherOwner of [false, true]) for (const request of requests) {
      if (self && target !== parties[0]) continue; // the target is the actor: one pass is enough
      const s: Scenario = { actor, target, self, otherOwner, request };
      const t = self ? actor : target;
      if (request.kind === "role" ? t.present && request.role === t.role : request.affiliation === t.aff) continue;
      const { outcome, lastOwner } = run(s);
      expect({ s, outcome }).toEqual({ s, outcome: expected(s, t, lastOwner) });
      cells++;
    }
    expect(cells).toBeGreaterThan(4000);
  });

  test("the model itself: an owner may do anything to a lower affiliation, a participant nothing", () => {
    for (const from of AFFILIATIONS) for (const to of AFFILIATIONS) {
      if (from === to || from === "owner") continue;
      expect(affiliationModel("owner", from, to, false, false)).toBe("allowed");
      expect(affiliationModel("member", from, to, false, false)).toBe("forbidden");
    }
  });
});
