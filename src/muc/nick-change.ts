import type { MucCore } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { nickConflict } from "./join.ts";
import { prepareNick } from "./nick.ts";
import type { Occupant } from "./occupant.ts";
import { presencePayload } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import type { Turn } from "./turn.ts";

/**
 * XEP-0045 §7.6: the occupant takes another nick. A nick with several
 * sessions moves as a whole: it is one occupant. The room announces the old
 * nick as unavailable with 303, then the new one (broadcaster.ts).
 */
export function changeNick(core: MucCore, room: Room, occupant: Occupant, inc: Incoming, turn: Turn): void {
  const prepared = prepareNick(inc.to.resource);
  if (!("nick" in prepared)) throw prepared;
  const conflict = nickConflict(core, room, prepared.nick, inc.from.bare);
  if (conflict) throw conflict;
  // The user already sits in the room under that nick with another session:
  // merging two occupants is not something XEP-0045 defines, so refuse.
  if (room.occupants.has(prepared.nick)) {
    throw refuse.conflict("You already use that nickname in this room from another session");
  }
  room.rename(occupant, prepared.nick, inc.from.full, presencePayload(inc.stanza), prepared.changed, turn);
}
