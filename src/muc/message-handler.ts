import type { Element, Node } from "@xmpp/xml";
import type { MucCore, GroupchatContext } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { NS } from "./namespaces.ts";
import type { Occupant } from "./occupant.ts";
import { ROOM_OWNED } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { addressed, element, payloadWithout } from "./stanza.ts";
import { isSessionGone } from "./session-gone.ts";
import type { Turn } from "./turn.ts";

/**
 * Messages addressed to a room (`room@service`) or to an occupant
 * (`room@service/nick`): groupchat (through the features' filters), private
 * messages, and the other messages to the room that features take
 * (invitations).
 */
export function handleMessage(core: MucCore, inc: Incoming, turn: Turn): void {
  const { stanza, room, occupant } = inc;
  const type = stanza.attrs.type;
  if (type === "error") {
    if (room && occupant && isSessionGone(stanza)) room.leave(occupant, inc.from.full, { cause: "error", payload: [] }, turn);
    return;
  }
  if (!inc.to.local) throw refuse.serviceUnavailable("The service itself takes no messages");
  // XEP-0410 §3.2: not-acceptable (not item-not-found) makes a client that believes it is joined rejoin.
  if (!room) throw refuse.notInRoom();
  if (inc.to.resource) {
    privateMessage(core, room, inc, turn);
    return;
  }
  if (type === "groupchat") {
    if (!occupant) throw refuse.notInRoom();
    groupchat(core, room, occupant, stanza, turn);
    return;
  }
  for (const hook of core.hooks.roomMessage) {
    if (hook.handle({ core, room, occupant, stanza, from: inc.from, turn })) return;
  }
  throw refuse.badRequest("Messages to the room must be of type groupchat");
}

/**
 * XEP-0045 §7.4: reflect to every occupant, sender included, from the
 * sender's occupant JID, keeping the sender's id (muc#stable_id), with what
 * the room owns (occupant id, XEP-0421 §4) in place of anything the client
 * forged. Features' filters see it first: they may refuse it, take it over
 * (a §8.1 subject change) or add to it.
 */
function groupchat(core: MucCore, room: Room, occupant: Occupant, stanza: Element, turn: Turn): void {
  // §5.1.1: visitors have no voice.
  if (occupant.role === "visitor") throw refuse.forbidden("Visitors may not speak in this room");
  const payload: Node[] = payloadWithout(stanza, ROOM_OWNED);
  const context: GroupchatContext = { core, room, occupant, stanza, payload, marks: [], turn };
  for (const hook of core.hooks.groupchat) {
    if (hook.filter(context) === "handled") return;
  }
  payload.push(...core.hooks.occupantMarks(occupant), ...context.marks);
  const attrs: Record<string, string> = { type: "groupchat", from: occupant.jid };
  if (stanza.attrs.id) attrs.id = stanza.attrs.id;
  if (stanza.attrs["xml:lang"]) attrs["xml:lang"] = stanza.attrs["xml:lang"];
  room.say(occupant, element("message", attrs, payload), turn);
}

/**
 * §7.5: a private message goes to every session of the recipient, from the
 * sender's occupant JID, marked with an empty muc#user x so clients file it
 * under the room. Only occupants may send them; groupchat type is refused.
 */
function privateMessage(core: MucCore, room: Room, inc: Incoming, turn: Turn): void {
  const { stanza, occupant } = inc;
  if (!occupant) throw refuse.notInRoom();
  if (stanza.attrs.type === "groupchat") throw refuse.badRequest("Private messages may not be of type groupchat");
  const recipient = room.occupants.get(inc.to.resource);
  if (!recipient) throw refuse.itemNotFound("Recipient not in room");
  for (const hook of core.hooks.privateMessage) hook.check({ core, room, occupant, recipient, stanza });
  const attrs: Record<string, string> = { from: occupant.jid };
  for (const name of ["type", "id", "xml:lang"]) if (stanza.attrs[name]) attrs[name] = stanza.attrs[name]!;
  const payload: Node[] = payloadWithout(stanza, ROOM_OWNED);
  payload.push(element("x", { xmlns: NS.MUC_USER }), ...core.hooks.occupantMarks(occupant));
  const message = element("message", attrs, payload);
  for (const session of recipient.sessions) turn.out.push(addressed(message, session));
}
