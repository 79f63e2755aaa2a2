import type { Element } from "@xmpp/xml";
import type { MucContext } from "./context.ts";
import { kickOccupant } from "./kick.ts";
import { affiliationRank, type Occupant } from "./occupant.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";

/**
 * The muc#admin namespace (XEP-0045 §8-9). mucgate implements the kick
 * (§8.2: `<item role='none' nick='…'>`); who may enter is the HTTP gate's
 * business, so bans, voice and affiliation lists are not offered.
 */
export function handleAdmin(
  ctx: MucContext,
  room: Room,
  actor: Occupant | undefined,
  iq: Element,
  query: Element,
  out: Element[],
  after: Element[],
): void {
  if (!actor) throw refuse.notInRoom();
  if (iq.attrs.type !== "set") throw refuse.featureNotImplemented("Only kicking is supported");
  const items = query.getChildren("item");
  if (items.length === 0) throw refuse.badRequest("Expected an <item/>");
  for (const item of items) {
    if (item.attrs.role !== "none" || item.attrs.affiliation !== undefined) {
      throw refuse.featureNotImplemented("Only kicking (role='none') is supported");
    }
    if (!item.attrs.nick) throw refuse.badRequest("A kick names the occupant's nick");
  }
  // Validate every item before acting on any, so a request is all or nothing.
  const targets = items.map((item) => {
    const target = room.occupants.get(item.attrs.nick!);
    if (!target) throw refuse.itemNotFound(`No occupant with the nick '${item.attrs.nick}'`);
    checkMayKick(actor, target);
    return { target, reason: item.getChildText("reason") ?? undefined };
  });
  // §8.2: the kicked occupants hear of it now, the rest of the room after the result.
  const others: Element[] = [];
  for (const { target, reason } of targets) {
    if (room.occupants.get(target.nick) !== target) continue; // named twice
    kickOccupant(ctx, room, target, { reason, actor: actor.nick }, out, others);
    ctx.metrics?.kicks.xmpp.inc();
  }
  // An occupant kicked by a later item of this request is already out: it hears no more of the room.
  for (const stanza of others) if (room.sessions.has(stanza.attrs.to!)) after.push(stanza);
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
