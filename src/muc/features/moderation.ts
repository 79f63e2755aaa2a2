import { deferred, type Feature, type IqContext } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { isTombstone } from "../retraction.ts";
import { archivedStanza } from "../room-record.ts";
import type { ArchivedMessage } from "../storage.ts";
import { refuse } from "../stanza-error.ts";
import { Turn, type Later } from "../turn.ts";
import { isArchived } from "./archive.ts";

/**
 * XEP-0425 message moderation (`urn:xmpp:message-moderate:1`): a moderator
 * retracts any archived message by its stanza-id; every occupant gets the
 * XEP-0424 retraction with `<moderated by='room/nick'/>` and the reason, the
 * archive keeps a tombstone instead of the message (MAM returns it, never
 * the body again), and the join history drops it. Others get forbidden.
 *
 * XEP-0424 retraction by the author (`urn:xmpp:message-retract:1`): the
 * room relays the author's `<retract/>` like any groupchat message and, when
 * the archived message is the author's own, applies it to the archive the
 * same way. XEP-0308 corrections pass through untouched.
 *
 * Which message an id names is read from storage after the turn (hooks.ts
 * Deferred; the router waits, the core does not).
 */

/** The archived message behind `id`, if it may still be retracted. */
function retractable(archived: ArchivedMessage | undefined) {
  if (!archived) return undefined;
  const original = archivedStanza(archived);
  return original && !isTombstone(original) ? { archived, original } : undefined;
}

function moderate({ core, room, occupant, payload }: IqContext) {
  const r = room!;
  if (!occupant?.isModerator) throw refuse.forbidden("Only moderators may retract others' messages");
  const id = payload.attrs.id;
  if (!id) throw refuse.badRequest("<moderate/> needs the message's stanza-id");
  if (!payload.getChild("retract", NS.RETRACT)) throw refuse.badRequest("Only <retract/> is supported");
  if (!isArchived(core, r)) throw refuse.itemNotFound("This room keeps no archive to moderate");
  const reason = payload.getChildText("reason") || undefined;
  const moderator = { jid: occupant.jid, occupantId: occupant.occupantId };
  return deferred(
    (storage) => storage.getArchived(r.jid, id),
    (archived, turn) => {
      const found = retractable(archived);
      if (!found || core.rooms.get(r.jid) !== r) throw refuse.itemNotFound(`No message '${id}' to retract in this room`);
      r.retract({ id, original: found.original, moderator, reason }, turn);
      return undefined;
    },
  );
}

export const messageModeration: Feature = {
  name: "moderation",
  roomFeatures: (room, core) => (isArchived(core, room) ? [NS.MODERATE, NS.RETRACT] : []),
  iq: [{ to: "room", type: "set", xmlns: NS.MODERATE, name: "moderate", handle: moderate }],
  groupchat: [
    {
      // After the archive's stanza-id (200), before everything that takes a message over.
      priority: 150,
      filter({ core, room, occupant, stanza, turn }) {
        const id = stanza.getChild("retract", NS.RETRACT)?.attrs.id;
        if (!id || !isArchived(core, room) || turn.later) return undefined;
        const author = occupant.bare;
        const later: Later = {
          run(storage) {
            const apply = (archived: ArchivedMessage | undefined) => {
              const after = new Turn(turn.now);
              const found = retractable(archived);
              // Only the author's own message: anyone else's retraction is relayed and nothing more.
              if (found && found.archived.bare === author && core.rooms.get(room.jid) === room) room.retract({ id, original: found.original }, after);
              return after.out;
            };
            const read = storage.getArchived(room.jid, id);
            return read instanceof Promise ? read.then(apply) : apply(read);
          },
        };
        turn.later = later;
        return undefined;
      },
    },
  ],
};
