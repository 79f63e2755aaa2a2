import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { MucService } from "../../src/muc/service.ts";
import { DOMAIN, fixture, type Fixture } from "./fixture.ts";

/**
 * The per-user room index (src/muc/user-rooms.ts), kept from the room
 * changes, against a recount of every room after any sequence of joins,
 * leaves, nick changes, kicks, bans, room destructions and restarts; and
 * max_user_conferences never exceeded by anyone but a service admin.
 */

const USERS = ["u0", "u1", "u2"] as const;
const ADMIN = "u0@u.test";
const MAX = 2;

type Op =
  | { op: "join"; user: number; session: number; room: number; nick: number }
  | { op: "leave"; user: number; session: number; room: number }
  | { op: "rename"; user: number; session: number; room: number; nick: number }
  | { op: "kick"; room: number; nick: number }
  | { op: "ban"; user: number; room: number }
  | { op: "destroy"; room: number }
  | { op: "restart" };

const user = fc.integer({ min: 0, max: USERS.length - 1 });
const session = fc.integer({ min: 0, max: 1 });
const room = fc.integer({ min: 0, max: 3 });
const nick = fc.integer({ min: 0, max: 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("join" as const), user, session, room, nick }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant("leave" as const), user, session, room }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("rename" as const), user, session, room, nick }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("kick" as const), room, nick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("ban" as const), user, room }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("destroy" as const), room }), weight: 1 },
  { arbitrary: fc.constant({ op: "restart" as const }), weight: 1 },
);

const bareOf = (u: number) => `${USERS[u]}@u.test`;
const fullOf = (u: number, s: number) => `${bareOf(u)}/s${s}`;
const roomJid = (r: number) => `r${r}@${DOMAIN}`;

function run(f: Fixture, o: Op): void {
  const service = f.service;
  switch (o.op) {
    case "join":
      f.join(fullOf(o.user, o.session), `r${o.room}`, `N${o.nick}`);
      return;
    case "leave": {
      const current = service.room(roomJid(o.room))?.sessions.get(fullOf(o.user, o.session))?.nick ?? "N0";
      f.leave(fullOf(o.user, o.session), `r${o.room}`, current);
      return;
    }
    case "rename":
      if (service.room(roomJid(o.room))?.sessions.has(fullOf(o.user, o.session))) f.presence(fullOf(o.user, o.session), `r${o.room}`, `N${o.nick}`);
      return;
    case "kick":
      service.kickFrom(roomJid(o.room), { nick: `N${o.nick}` }, undefined, []);
      return;
    case "ban":
      service.setAffiliation(roomJid(o.room), bareOf(o.user), "outcast", undefined, []);
      return;
    case "destroy":
      service.destroy(roomJid(o.room), {}, []);
      return;
    case "restart":
      f.restart();
      return;
  }
}

/** bare JID → the rooms it is an occupant of, counted from the rooms themselves. */
function recount(service: MucService): Map<string, Set<string>> {
  const rooms = new Map<string, Set<string>>();
  for (const r of service.rooms.values()) {
    for (const o of r.occupants.values()) rooms.set(o.bare, (rooms.get(o.bare) ?? new Set()).add(r.jid));
  }
  return rooms;
}

describe("the per-user room index (property)", () => {
  test("after any sequence of room changes it equals a recount of the rooms, and nobody but an admin is in more than max_user_conferences", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const f = fixture({ settings: { maxUserConferences: MAX, admins: new Set([ADMIN]) } });
        for (const o of ops) {
          run(f, o);
          const expected = recount(f.service);
          for (let u = 0; u < USERS.length; u++) {
            const bare = bareOf(u);
            const rooms = [...(expected.get(bare) ?? [])].sort();
            expect([...f.service.userRooms.rooms(bare)].sort()).toEqual(rooms);
            expect(f.service.userRooms.count(bare)).toBe(rooms.length);
            for (let r = 0; r < 4; r++) expect(f.service.userRooms.has(bare, roomJid(r))).toBe(rooms.includes(roomJid(r)));
            if (bare !== ADMIN) expect(rooms.length).toBeLessThanOrEqual(MAX);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
