import type { Element, Node } from "@xmpp/xml";
import type { MucContext } from "./context.ts";
import type { Occupant } from "./occupant.ts";
import { broadcastPresence, presenceFor } from "./presence.ts";
import type { Room } from "./room.ts";
import { addressed } from "./stanza.ts";

/**
 * A session leaves its room: by its own unavailable presence (XEP-0045 §7.14),
 * or because its server bounced something to it (status 333, "removed due to
 * an error", as Prosody does for kickable errors).
 *
 * When other sessions of the same nick remain, only the leaving session hears
 * about it; the room still shows the nick. When the last one goes, the room
 * sees the occupant leave, and an emptied temporary room is dropped.
 */
export function leave(
  ctx: MucContext,
  room: Room,
  occupant: Occupant,
  session: string,
  out: Element[],
  options: { statuses?: string[]; payload?: Node[] } = {},
): void {
  const change = { type: "unavailable" as const, statuses: options.statuses ?? [], payload: options.payload ?? [] };
  if (occupant.sessions.size > 1) {
    out.push(addressed(presenceFor(occupant, { ...change, role: "none" }, "self"), session));
    room.removeSession(occupant, session);
    return;
  }
  occupant.role = "none";
  room.removeOccupant(occupant);
  broadcastPresence(room, occupant, change, out);
  ctx.destroyIfEmpty(room);
}

