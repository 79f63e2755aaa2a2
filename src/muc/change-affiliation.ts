import type { MucCore } from "./hooks.ts";
import { defaultRole } from "./join.ts";
import { affiliationRank, type Affiliation, type Occupant, type Role } from "./occupant.ts";
import type { Room } from "./room.ts";
import type { Turn } from "./turn.ts";

const ROLE_RANK: Record<Role, number> = { none: 0, visitor: 1, participant: 2, moderator: 3 };

export interface AffiliationChange {
  readonly reason?: string | undefined;
  /** Nick of the occupant who made the change, if one did. */
  readonly actor?: string | undefined;
  /** §9.4, §9.5: the nick reserved for the JID with it; "" drops the reservation. */
  readonly nick?: string | undefined;
}

/**
 * Give a bare JID (or a domain, §9.2) an affiliation, with what follows from
 * it for the occupants of that JID — the one way muc#admin and the
 * configuration form change affiliations. Permission is the caller's
 * business (privileges.ts).
 *
 * - Roles follow the affiliation in the same presence (§5.1.3 note, §10.3):
 *   an occupant takes the default role of its new affiliation when that is
 *   a step up, or when the affiliation went down (an admin made a member
 *   stops moderating; a moderator made by hand who becomes a member stays).
 * - §9.1: an outcast is removed with 301 (every occupant of a banned
 *   domain too), and its reserved nick is released; so is the nick of a user
 *   whose membership is revoked (§7.10: registering is what makes a member).
 */
export function changeAffiliation(core: MucCore, room: Room, jid: string, affiliation: Affiliation, how: AffiliationChange, turn: Turn): void {
  const previous = room.affiliations.get(jid)?.affiliation ?? "none";
  const roles = new Map<Occupant, Exclude<Role, "none">>();
  if (affiliation !== "outcast") {
    const role = defaultRole(core, room, jid, affiliation);
    const down = affiliationRank(affiliation) < affiliationRank(previous);
    for (const occupant of room.occupants.values()) {
      if (occupant.bare !== jid || occupant.role === role) continue;
      if (down || ROLE_RANK[role] > ROLE_RANK[occupant.role]) roles.set(occupant, role);
    }
  }
  room.setAffiliation(jid, affiliation, { reason: how.reason, actor: how.actor, roles }, turn);
  if (affiliation === "outcast" || affiliation === "none" || how.nick === "") {
    if (room.registrationOf(jid) !== undefined) room.setRegistration(jid, undefined, turn);
  } else if (how.nick !== undefined) {
    room.setRegistration(jid, how.nick, turn);
  }
  if (affiliation === "outcast") {
    for (const occupant of [...room.occupants.values()]) {
      // Checked again each time: removing the last occupant may end the room (§10.1.3).
      if (room.occupants.get(occupant.nick) === occupant && occupant.affiliation === "outcast") room.remove(occupant, { cause: "ban", reason: how.reason, actor: how.actor }, turn);
    }
  }
}
