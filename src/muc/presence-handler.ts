import type { MucCore } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { join } from "./join.ts";
import { NS } from "./namespaces.ts";
import { changeNick } from "./nick-change.ts";
import { prepareNick } from "./nick.ts";
import { presencePayload } from "./presence.ts";
import { refuse } from "./stanza-error.ts";
import type { Turn } from "./turn.ts";

/** RFC 6121 subscription and probe types mean nothing to a room: ignored, as Prosody does. */
const IGNORED_TYPES = new Set(["probe", "subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

/**
 * Presence addressed to `room@service/nick`: the whole occupant life cycle
 * (XEP-0045 §7.2 join and resync, §7.6 nick change, §7.7 presence update, §7.14 leave),
 * plus presence errors bounced by a user's server, which remove that session (333).
 */
export function handlePresence(core: MucCore, inc: Incoming, turn: Turn): void {
  const { stanza, room, occupant, from } = inc;
  const type = stanza.attrs.type;
  if (type === "error") {
    if (room && occupant) room.leave(occupant, from.full, { cause: "error", payload: [] }, turn);
    return;
  }
  if (type === "unavailable") {
    if (room && occupant) room.leave(occupant, from.full, { cause: "leave", payload: presencePayload(stanza) }, turn);
    return;
  }
  if (type !== undefined) {
    if (IGNORED_TYPES.has(type)) return;
    throw refuse.badRequest(`Unknown presence type '${type}'`);
  }
  if (!inc.to.local) throw refuse.jidMalformed("Presence must be addressed to a room");
  // §7.2.1: "If the user does not specify a room nickname ... the service MUST return a <jid-malformed/> error".
  if (!inc.to.resource) throw refuse.jidMalformed("A nickname is required to enter a room");
  if (!room || !occupant) {
    join(core, inc, turn);
    return;
  }
  const prepared = prepareNick(inc.to.resource);
  if ("nick" in prepared && prepared.nick === occupant.nick) {
    if (stanza.getChild("x", NS.MUC)) {
      // §7.2.1: a join from a session already in the room means the client
      // lost its synchronisation; it SHOULD get exactly what a join sends
      // (occupants, self-presence, history, subject), and only it.
      join(core, inc, turn);
      return;
    }
    // §7.7: a presence update, shown to everyone.
    room.updatePresence(occupant, from.full, presencePayload(stanza), turn);
    return;
  }
  changeNick(core, room, occupant, inc, turn);
}
