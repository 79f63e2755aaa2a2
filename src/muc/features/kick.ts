import type { Feature, IqContext, MucCore } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { affiliationRank, type Occupant } from "../occupant.ts";
import type { Room } from "../room.ts";
import { refuse } from "../stanza-error.ts";
import type { Turn } from "../turn.ts";

/**
 * §8.2 kicking an occupant: muc#admin `<item role='none' nick='…'>` from a
 * moderator, the one operation behind kicks from XMPP, from HTTP
 * (/muc_kick) and at shutdown (332). The kicked occupant hears of it first,
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

/**
 * §8.2: only moderators kick, and "a moderator MUST NOT be able to revoke
 * moderation privileges from an occupant who is equal to or above the
 * moderator in the hierarchy" — owners and admins cannot be kicked by
 * someone of lower or equal affiliation (§9: admins and owners outrank).
 */
function checkMayKick(actor: Occupant, target: Occupant): void {
  if (!actor.isModerator) throw refuse.forbidden("Only moderators may kick");
  const targetRank = affiliationRank(target.affiliation);
  if (targetRank >= affiliationRank("admin") && targetRank >= affiliationRank(actor.affiliation)) {
    throw refuse.notAllowed("You may not kick an occupant of equal or higher affiliation");
  }
}

function kick({ core, room, occupant: actor, payload, turn }: IqContext): undefined {
  if (!actor) throw refuse.notInRoom();
  const items = payload.getChildren("item");
  if (items.length === 0) throw refuse.badRequest("Expected an <item/>");
  for (const item of items) {
    if (item.attrs.role !== "none" || item.attrs.affiliation !== undefined) {
      throw refuse.featureNotImplemented("Only kicking (role='none') is supported");
    }
    if (!item.attrs.nick) throw refuse.badRequest("A kick names the occupant's nick");
  }
  // Validate every item before acting on any, so a request is all or nothing.
  const targets = items.map((item) => {
    const target = room!.occupants.get(item.attrs.nick!);
    if (!target) throw refuse.itemNotFound(`No occupant with the nick '${item.attrs.nick}'`);
    checkMayKick(actor, target);
    return { target, reason: item.getChildText("reason") ?? undefined };
  });
  for (const { target, reason } of targets) {
    if (room!.occupants.get(target.nick) !== target) continue;
    kickOccupants(core, room!, [target], { reason, actor: actor.nick }, turn);
    core.metrics?.kicks.xmpp.inc();
  }
  return undefined;
}

export const kicks: Feature = {
  name: "kick",
  iq: [
    { to: "room", type: "set", xmlns: NS.MUC_ADMIN, name: "query", handle: kick },
    {
      to: "room",
      type: "get",
      xmlns: NS.MUC_ADMIN,
      name: "query",
      handle: ({ occupant }) => {
        if (!occupant) throw refuse.notInRoom();
        throw refuse.featureNotImplemented("Only kicking is supported");
      },
    },
  ],
};
