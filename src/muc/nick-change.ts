import type { Element } from "@xmpp/xml";
import type { Incoming } from "./context.ts";
import { nickConflict } from "./join.ts";
import { prepareNick } from "./nick.ts";
import type { Occupant } from "./occupant.ts";
import { broadcastPresence, presencePayload } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";

/** Validate a nick change; throws the StanzaError the user should get. */
function checkNickChange(inc: Incoming, occupant: Occupant): { nick: string; changed: boolean } {
  const prepared = prepareNick(inc.to.resource);
  if (!("nick" in prepared)) throw prepared;
  const conflict = nickConflict(inc.room, prepared.nick, inc.from.bare);
  if (conflict) throw conflict;
  // The user already sits in the room under that nick with another session:
  // merging two occupants is not something XEP-0045 defines, so refuse.
  if (prepared.nick !== occupant.nick && inc.room?.occupants.has(prepared.nick)) {
    throw refuse.conflict("You already use that nickname in this room from another session");
  }
  return prepared;
}

/**
 * XEP-0045 §7.6: the room announces the old nick as unavailable with status
 * 303 and the new nick in the item, then the occupant's presence under the
 * new nick; the occupant's own sessions get 110 on both (and 210 when the
 * service changed the nick it asked for). A nick with several sessions moves
 * as a whole: it is one occupant.
 */
export function changeNick(room: Room, occupant: Occupant, inc: Incoming, out: Element[]): void {
  const { nick, changed } = checkNickChange(inc, occupant);
  broadcastPresence(room, occupant, { type: "unavailable", statuses: ["303"], newNick: nick }, out);
  room.renameOccupant(occupant, nick);
  room.addSession(occupant, inc.from.full, presencePayload(inc.stanza));
  broadcastPresence(room, occupant, { selfStatuses: changed ? ["210"] : [] }, out);
}
