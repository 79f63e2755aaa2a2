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
 */
export function kickOccupant(ctx: MucContext, room: Room, occupant: Occupant, options: KickOptions, out: Element[]): void {
  occupant.role = "none";
  room.removeOccupant(occupant);
  broadcastPresence(
    room,
    occupant,
    {
      type: "unavailable",
      statuses: [options.status ?? "307"],
      reason: options.reason,
      actor: options.actor,
      payload: [],
    },
    out,
  );
  ctx.destroyIfEmpty(room);
}
