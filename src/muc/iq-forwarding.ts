import { element } from "./stanza.ts";
import { type MucCore, FORWARDED, type IqContext } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import type { Turn } from "./turn.ts";

/**
 * IQs between occupants (XEP-0045 §7.2 "IQ requests sent to occupant JIDs"):
 * a request to `room/nick` goes to one session of that occupant, from the
 * sender's occupant JID, so neither learns the other's real JID. The id is
 * rewritten to `<tag>.<original id>` where the tag (an HMAC of the sender's
 * real JID) lets the answer, addressed to the sender's occupant JID, find the
 * right session again among several.
 */
export function forwardRequest(core: MucCore, context: IqContext): typeof FORWARDED {
  const { iq, occupant, room, to, turn } = context;
  // XEP-0410 §3.2: "not-acceptable" tells a client it is no longer joined.
  if (!occupant) throw refuse.notInRoom();
  const target = room!.occupants.get(to.resource);
  if (!target) throw refuse.itemNotFound("Recipient not in room");
  const id = `${core.secret.sessionTag(context.from.full)}.${iq.attrs.id ?? ""}`;
  turn.out.push(element("iq", { type: iq.attrs.type!, from: occupant.jid, to: target.latestSession(), id }, iq.children));
  return FORWARDED;
}

/** An answer (result/error) to a forwarded request, on its way back to the asking session. */
export function forwardResponse(core: MucCore, room: Room, inc: Incoming, turn: Turn): void {
  const { stanza, occupant } = inc;
  if (!occupant) return; // answers only come from occupants' sessions
  const id = stanza.attrs.id ?? "";
  const dot = id.indexOf(".");
  if (dot === -1) return;
  const tag = id.slice(0, dot);
  const asker = room.occupants.get(inc.to.resource);
  if (!asker) return;
  for (const session of asker.sessions) {
    if (core.secret.sessionTag(session) === tag) {
      turn.out.push(element("iq", { type: stanza.attrs.type!, from: occupant.jid, to: session, id: id.slice(dot + 1) }, stanza.children));
      return;
    }
  }
}

