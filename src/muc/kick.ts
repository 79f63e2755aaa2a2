import type { Element } from "@xmpp/xml";
import type { MucContext } from "./context.ts";
import type { Occupant } from "./occupant.ts";
import { broadcastPresence } from "./presence.ts";
import type { Room } from "./room.ts";

export interface KickOptions {
  reason?: string | undefined;
  /** Nick of the moderator who kicked; absent for the service itself (HTTP, shutdown). */
  actor?: string | undefined;
  /** Status code: 307 kicked (§8.2), 332 system shutdown (§15.7.2). */
  status?: "307" | "332";
}

/**
 * Remove an occupant with every one of its sessions, XEP-0045 §8.2: each
 * session gets unavailable presence with `<item role='none'>`, the reason and
 * status 307 (plus 110); every other occupant gets the same without 110.
 * The one operation behind kicks from XMPP (muc#admin), HTTP (/muc_kick) and
 * shutdown (status 332).
 *
 * §8.2 orders it: the kicked occupant first, then the moderator's IQ result,
 * then the remaining occupants. What the remaining occupants get therefore
 * goes to `others`, which a muc#admin kick sends after its result; the other
 * callers have no result and pass nothing (everything goes to `out`).
 */
export function kickOccupant(
  ctx: MucContext,
  room: Room,
  occupant: Occupant,
  options: KickOptions,
  out: Element[],
  others: Element[] = out,
): void {
  occupant.role = "none";
  room.removeOccupant(occupant);
  const change = { type: "unavailable" as const, statuses: [options.status ?? "307"], reason: options.reason, actor: options.actor, payload: [] };
  broadcastPresence(room, occupant, change, out, others);
  ctx.destroyIfEmpty(room);
}
