import type { Element } from "@xmpp/xml";
import type { Incoming, MucContext } from "./context.ts";
import { NS } from "./namespaces.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { element, soleChild } from "./stanza.ts";

/**
 * IQs between occupants (XEP-0045 §7.2 "IQ requests sent to occupant JIDs"):
 * a request to `room/nick` goes to one session of that occupant, from the
 * sender's occupant JID, so neither learns the other's real JID. The id is
 * rewritten to `<tag>.<original id>` where the tag (an HMAC of the sender's
 * real JID) lets the answer, addressed to the sender's occupant JID, find the
 * right session again among several. XEP-0410 self-pings are answered by the
 * room itself (muc#self-ping-optimization).
 */

export function forwardRequest(ctx: MucContext, room: Room, inc: Incoming, out: Element[]): Element | undefined {
  const { stanza, occupant } = inc;
  const payload = soleChild(stanza);
  // XEP-0410 §3.2: "not-acceptable" tells a client it is no longer joined.
  if (!occupant) throw refuse.notInRoom();
  if (inc.to.resource === occupant.nick && payload?.is("ping", NS.PING) && stanza.attrs.type === "get") {
    return undefined; // an empty result: you are still joined
  }
  const target = room.occupants.get(inc.to.resource);
  if (!target) throw refuse.itemNotFound("Recipient not in room");
  const id = `${ctx.secret.sessionTag(inc.from.full)}.${stanza.attrs.id ?? ""}`;
  out.push(element("iq", { type: stanza.attrs.type!, from: occupant.jid, to: target.latestSession(), id }, stanza.children));
  return FORWARDED;
}

/** Marker: the request went on to an occupant; the room sends no answer itself. */
export const FORWARDED: Element = element("forwarded", {});

/** An answer (result/error) to a forwarded request, on its way back to the asking session. */
export function forwardResponse(ctx: MucContext, room: Room, inc: Incoming, out: Element[]): void {
  const { stanza, occupant } = inc;
  if (!occupant) return; // answers only come from occupants' sessions
  const id = stanza.attrs.id ?? "";
  const dot = id.indexOf(".");
  if (dot === -1) return;
  const tag = id.slice(0, dot);
  const asker = room.occupants.get(inc.to.resource);
  if (!asker) return;
  for (const session of asker.sessions) {
    if (ctx.secret.sessionTag(session) === tag) {
      out.push(element("iq", { type: stanza.attrs.type!, from: occupant.jid, to: session, id: id.slice(dot + 1) }, stanza.children));
      return;
    }
  }
}
