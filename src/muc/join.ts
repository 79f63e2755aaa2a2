import { StanzaError } from "../errors.ts";
import type { Jid } from "../jid.ts";
import type { MucCore, JoinAttempt } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { prepareNick } from "./nick.ts";
import type { Affiliation, Role } from "./occupant.ts";
import { currentPresence, presencePayload, seesRealJids } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { addressed } from "./stanza.ts";
import type { Turn } from "./turn.ts";

/**
 * Entering a room, XEP-0045 §7.2. The order of what the new occupant receives
 * is the one clients rely on (§7.2.3-§7.2.16): every existing occupant's
 * presence, then its own presence with status 110 (plus 201 when the join
 * created the room, 210 when the service changed the nick), then what the
 * features' `joined` hooks send: the discussion history, then the subject —
 * always, which is how clients know the join is complete.
 *
 * Who may enter is the features' business (`preJoin` and `nickCheck` hooks);
 * this file only runs them, in priority order, and knows none of them.
 */

/**
 * Whether `bare` may hold `nick` in `room`: nobody else sits in it (§7.2.9),
 * and no feature reserves it for someone else (§7.10 registration).
 */
export function nickConflict(core: MucCore, room: Room | undefined, nick: string, bare: string): StanzaError | undefined {
  if (!room) return undefined;
  const holder = room.occupants.get(nick);
  if (holder && holder.bare !== bare) return refuse.conflict("That nickname is already in use by another occupant");
  for (const hook of core.hooks.nickCheck) {
    const refusal = hook.check(room, nick, bare);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The role a newcomer gets (§5.1.2): the first feature that decides, else by affiliation. */
export function defaultRole(core: MucCore, room: Room, bare: string, affiliation: Affiliation): Exclude<Role, "none"> {
  for (const hook of core.hooks.defaultRole) {
    const role = hook.role(room, bare, affiliation);
    if (role) return role;
  }
  return affiliation === "owner" || affiliation === "admin" ? "moderator" : "participant";
}

/** The refusal of the first `beforeGate` check that refuses this join, if any. */
export function beforeGateRefusal(core: MucCore, attempt: JoinAttempt): StanzaError | undefined {
  for (const hook of core.hooks.beforeGate) {
    const refusal = hook.check(attempt);
    if (refusal) return refusal;
  }
  return undefined;
}

/** Validate a join; throws the StanzaError the user should get. */
function checkJoin(core: MucCore, inc: Incoming): { nick: string; changed: boolean } {
  const prepared = prepareNick(inc.to.resource);
  if (!("nick" in prepared)) throw prepared;
  const own = inc.room?.affiliationOf(inc.from.bare) ?? "none";
  const attempt: JoinAttempt = { core, room: inc.room, from: inc.from, nick: prepared.nick, stanza: inc.stanza, affiliation: inc.standing?.affiliation ?? own };
  // The checks the router runs before the gate come first, on the room's own
  // affiliation: a ban holds whatever the backend's answer says (§9.1), and a
  // banned user learns nothing of the nicks in the room (docs/join-checks.md).
  const early = beforeGateRefusal(core, { ...attempt, affiliation: own });
  if (early) throw early;
  for (const hook of core.hooks.preJoin) {
    if (hook.beforeGate) continue;
    const refusal = hook.check(attempt);
    if (refusal) throw refusal;
  }
  // After the checks that keep a user out: one kept out never learns which nicks are taken (docs/join-checks.md).
  const conflict = nickConflict(core, inc.room, prepared.nick, inc.from.bare);
  if (conflict) throw conflict;
  return prepared;
}

export function join(core: MucCore, inc: Incoming, turn: Turn): void {
  let prepared: { nick: string; changed: boolean };
  try {
    prepared = checkJoin(core, inc);
  } catch (err) {
    const conflict = err instanceof StanzaError && err.condition === "conflict";
    core.metrics?.joins[conflict ? "conflict" : "error"].inc();
    throw err;
  }
  const { nick, changed } = prepared;
  const { stanza, from } = inc;
  const created = !inc.room;
  const room = inc.room ?? core.createRoom(inc.to, from, turn);
  const session = from.full;
  const payload = presencePayload(stanza);

  const { standing } = inc;
  // The gate's affiliation is set before the user enters, as any affiliation change (§9): broadcast, recorded.
  if (standing?.affiliation !== undefined && room.affiliationOf(from.bare) !== standing.affiliation) {
    room.setAffiliation(from.bare, standing.affiliation, {}, turn);
  }
  const existing = room.occupants.get(nick);
  if (existing && standing?.role !== undefined) room.setRole(existing, standing.role, {}, turn);
  const role = existing?.role ?? standing?.role ?? defaultRole(core, room, from.bare, room.affiliationOf(from.bare));
  // 1. Existing occupants, as this user's role may see them.
  sendRoster(core, room, existing, seesRealJids(room, role), from, turn);
  if (existing) {
    // Another session of a nick already present (multi-session), or a
    // session resyncing (§7.2.1): only it hears of it.
    room.addSession(existing, session, payload, changed, turn);
  } else {
    // 2. Everyone, the newcomer's sessions included, learns of it (§7.2.3).
    room.enter({ nick, bare: from.bare, session, payload, role: role as Exclude<Role, "none">, created, nickModified: changed }, turn);
  }
  // 3. History, subject (§7.2.15, §7.2.16) and whatever else features send a newcomer.
  const occupant = room.occupants.get(nick)!;
  for (const hook of core.hooks.joined) hook.send({ core, room, occupant, session, stanza, turn });
  core.metrics?.joins.allowed.inc();
}

function sendRoster(core: MucCore, room: Room, self: unknown, seesJids: boolean, to: Jid, turn: Turn): void {
  for (const other of room.occupants.values()) {
    if (other === self) continue;
    const template = currentPresence(other, seesJids ? "moderators" : "others", core.hooks.occupantMarks(other));
    turn.out.push(addressed(template, to.full));
  }
}
