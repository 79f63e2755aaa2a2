import type { MucCore } from "../hooks.ts";
import type { Occupant } from "../occupant.ts";
import type { Room } from "../room.ts";
import type { Turn } from "../turn.ts";

/**
 * §8.2 kicking an occupant: the one operation behind kicks from XMPP
 * (muc#admin `<item role='none' nick='…'>`, features/admin.ts, who may:
 * privileges.ts), from HTTP (/muc_kick) and at shutdown (332). The kicked occupant hears of it first,
 * then the moderator gets the result, then the rest of the room
 * (iq-handler.ts, turn.ts).
 */

export interface KickOptions {
  reason?: string | undefined;
  /** Nick of the moderator who kicked; absent for the service itself (HTTP, shutdown). */
  actor?: string | undefined;
  /** 307 kicked (§8.2), 332 system shutdown (§15.7.2). */
  cause?: "kick" | "shutdown";
}

/** Remove occupants with every session; those no longer in the room are skipped. */
export function kickOccupants(core: MucCore, room: Room, occupants: readonly Occupant[], options: KickOptions, turn: Turn): void {
  for (const occupant of occupants) {
    if (room.occupants.get(occupant.nick) !== occupant) continue; // named twice, or gone
    room.remove(occupant, { cause: options.cause ?? "kick", reason: options.reason, actor: options.actor }, turn);
  }
}
