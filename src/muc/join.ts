import type { Element } from "@xmpp/xml";
import { StanzaError } from "../errors.ts";
import type { Incoming, MucContext } from "./context.ts";
import { parseHistoryRequest } from "./history.ts";
import { prepareNick } from "./nick.ts";
import { NS } from "./namespaces.ts";
import { Occupant, defaultRole } from "./occupant.ts";
import { broadcastPresence, currentPresence, presenceFor, presencePayload } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { addressed } from "./stanza.ts";

/**
 * Entering a room, XEP-0045 §7.2. The order of what the new occupant receives
 * is the one clients rely on (§7.2.3-§7.2.16): every existing occupant's
 * presence, then its own presence with status 110 (plus 201 when the join
 * created the room, 210 when the service changed the nick), then the
 * discussion history, then the subject — always, an empty <subject/> when
 * none is set, which is how clients know the join is complete.
 */

/** A nick is free for `bare` unless someone else sits in it or registered it (§7.2.9, §7.10). */
export function nickConflict(room: Room | undefined, nick: string, bare: string): StanzaError | undefined {
  if (!room) return undefined;
  const holder = room.occupants.get(nick);
  if (holder && holder.bare !== bare) return refuse.conflict("That nickname is already in use by another occupant");
  const registrant = room.registrantOf(nick);
  if (registrant && registrant !== bare) return refuse.conflict("That nickname is registered by another person");
  return undefined;
}

/** Validate a join; throws the StanzaError the user should get. */
function checkJoin(inc: Incoming): { nick: string; changed: boolean } {
  const prepared = prepareNick(inc.to.resource);
  if (!("nick" in prepared)) throw prepared;
  const conflict = nickConflict(inc.room, prepared.nick, inc.from.bare);
  if (conflict) throw conflict;
  if (inc.room?.affiliationOf(inc.from.bare) === "outcast") throw refuse.forbidden("You are banned from this room");
  return prepared;
}

export function join(ctx: MucContext, inc: Incoming, out: Element[]): void {
  let prepared: { nick: string; changed: boolean };
  try {
    prepared = checkJoin(inc);
  } catch (err) {
    const conflict = err instanceof StanzaError && err.condition === "conflict";
    ctx.metrics?.joins[conflict ? "conflict" : "error"].inc();
    throw err;
  }
  const { nick, changed } = prepared;
  const { stanza, from } = inc;
  let room = inc.room;
  const created = !room;
  if (!room) {
    room = ctx.createRoom(inc.to.bare, inc.to.local);
    // §10.1.1: the creator is the room's owner.
    room.affiliations.set(from.bare, "owner");
  }

  const selfStatuses: string[] = [];
  // Rooms are instant (§10.1.2): never locked, but 201 still tells clients
  // they created it, so they may send the (accepted) configuration form.
  if (created) selfStatuses.push("201");
  if (changed) selfStatuses.push("210");

  let occupant = room.occupants.get(nick);
  const newcomer = !occupant;
  if (!occupant) {
    const affiliation = room.affiliationOf(from.bare);
    occupant = new Occupant(
      room.jid,
      nick,
      from.bare,
      ctx.secret.occupantId(room.jid, from.bare),
      affiliation,
      defaultRole(affiliation),
      from.full,
      presencePayload(stanza),
    );
  }

  // 1. Existing occupants, as this user's role may see them.
  const seesJids = occupant.isModerator;
  for (const other of room.occupants.values()) {
    if (other === occupant) continue;
    out.push(addressed(currentPresence(other, seesJids ? "moderators" : "others"), from.full));
  }

  if (newcomer) {
    room.addOccupant(occupant);
    // 2. Everyone, the new occupant's sessions included, learns of it (§7.2.3).
    broadcastPresence(room, occupant, { selfStatuses }, out);
  } else {
    // Another session of a nick already present (multi-session): the room
    // shows nothing new to others; this session alone gets its self-presence.
    room.addSession(occupant, from.full, presencePayload(stanza));
    out.push(addressed(presenceFor(occupant, { selfStatuses }, "self"), from.full));
  }

  // 3. History (§7.2.15), with the limits the join asked for.
  const request = parseHistoryRequest(stanza.getChild("x", NS.MUC)?.getChild("history"));
  for (const entry of room.history.select(request, ctx.now())) out.push(addressed(entry.message, from.full));

  // 4. Subject (§7.2.16), always last.
  out.push(addressed(room.subject ?? room.noSubject, from.full));
  ctx.metrics?.joins.allowed.inc();
}
