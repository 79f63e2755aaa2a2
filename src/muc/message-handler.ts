import type { Element, Node } from "@xmpp/xml";
import { parseJid } from "../jid.ts";
import type { Incoming, MucContext } from "./context.ts";
import { leave } from "./leave.ts";
import { NS } from "./namespaces.ts";
import type { Occupant } from "./occupant.ts";
import { broadcast, occupantIdElement, ROOM_OWNED } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { addressed, element, payloadWithout, xmppDateTime } from "./stanza.ts";

/**
 * Errors a user's server bounces that mean the session is gone; the room then
 * removes it (status 333) instead of relaying into the void forever. The same
 * list Prosody uses.
 */
const GONE = new Set([
  "gone",
  "internal-server-error",
  "item-not-found",
  "jid-malformed",
  "recipient-unavailable",
  "redirect",
  "remote-server-not-found",
  "remote-server-timeout",
  "service-unavailable",
]);

function isSessionGone(stanza: Element): boolean {
  const error = stanza.getChild("error");
  if (!error) return true;
  for (const child of error.children) {
    if (typeof child !== "string" && child.attrs.xmlns === NS.STANZAS && child.name !== "text") return GONE.has(child.name);
  }
  return true;
}

/** Messages addressed to a room (`room@service`) or to an occupant (`room@service/nick`). */
export function handleMessage(ctx: MucContext, inc: Incoming, out: Element[]): void {
  const { stanza, room, occupant } = inc;
  const type = stanza.attrs.type;
  if (type === "error") {
    if (room && occupant && isSessionGone(stanza)) leave(ctx, room, occupant, inc.from.full, out, { statuses: ["333"] });
    return;
  }
  if (!inc.to.local) throw refuse.serviceUnavailable("The service itself takes no messages");
  if (!room) throw refuse.itemNotFound("No such room");
  if (inc.to.resource) {
    privateMessage(room, inc, out);
    return;
  }
  if (type === "groupchat") {
    if (!occupant) throw refuse.notInRoom();
    groupchat(ctx, room, occupant, stanza, out);
    return;
  }
  const invite = stanza.getChild("x", NS.MUC_USER)?.getChild("invite");
  if (invite) {
    mediatedInvitation(room, inc, invite, out);
    return;
  }
  throw refuse.badRequest("Messages to the room must be of type groupchat");
}

/**
 * XEP-0045 §7.4: reflect to every occupant, sender included, from the
 * sender's occupant JID, keeping the sender's id (muc#stable_id), with the
 * room's occupant-id in place of any the client sent (XEP-0421 §4). A message
 * with only a subject is a subject change instead (§8.1).
 */
function groupchat(ctx: MucContext, room: Room, occupant: Occupant, stanza: Element, out: Element[]): void {
  if (occupant.role === "visitor") throw refuse.forbidden("Visitors may not speak in this room");
  const hasSubject = stanza.getChild("subject") !== undefined;
  const hasBody = stanza.getChild("body") !== undefined;
  if (hasSubject && !hasBody && stanza.getChild("thread") === undefined) {
    changeSubject(room, occupant, stanza, out);
    return;
  }
  const attrs: Record<string, string> = { type: "groupchat", from: occupant.jid };
  if (stanza.attrs.id) attrs.id = stanza.attrs.id;
  if (stanza.attrs["xml:lang"]) attrs["xml:lang"] = stanza.attrs["xml:lang"];
  const payload: Node[] = payloadWithout(stanza, ROOM_OWNED);
  payload.push(occupantIdElement(occupant));
  const message = element("message", attrs, payload);
  broadcast(room, message, out);
  if (hasBody) remember(ctx, room, message);
}

/** Keep a message for §7.2.15 history, stamped with XEP-0203 delay. */
function remember(ctx: MucContext, room: Room, message: Element): void {
  if (room.history.size === 0) return;
  const stamp = ctx.now();
  const delayed = element("message", message.attrs, [
    ...message.children,
    element("delay", { xmlns: NS.DELAY, from: room.jid, stamp: xmppDateTime(stamp) }),
  ]);
  // maxchars counts "the complete XML stanzas" (§7.2.15), approximated with
  // the stanza as stored; `to` differs per recipient and is left out.
  room.history.push({ message: delayed, stamp, chars: delayed.toString().length });
}

/** §8.1: moderators may change the subject; participants only when the room allows it. */
function changeSubject(room: Room, occupant: Occupant, stanza: Element, out: Element[]): void {
  if (!occupant.isModerator && !room.config.changeSubject) {
    throw refuse.forbidden("Only moderators may change the subject in this room");
  }
  const subject = stanza.getChild("subject")!;
  const message = element("message", { type: "groupchat", from: occupant.jid }, [
    element("subject", {}, [subject.getText()]),
    occupantIdElement(occupant),
  ]);
  room.subject = message;
  broadcast(room, message, out);
}

/**
 * §7.5: a private message goes to every session of the recipient, from the
 * sender's occupant JID, marked with an empty muc#user x so clients file it
 * under the room. Only occupants may send them; groupchat type is refused.
 */
function privateMessage(room: Room, inc: Incoming, out: Element[]): void {
  const { stanza, occupant } = inc;
  if (!occupant) throw refuse.notInRoom();
  if (stanza.attrs.type === "groupchat") throw refuse.badRequest("Private messages may not be of type groupchat");
  const recipient = room.occupants.get(inc.to.resource);
  if (!recipient) throw refuse.itemNotFound("Recipient not in room");
  const attrs: Record<string, string> = { from: occupant.jid };
  for (const name of ["type", "id", "xml:lang"]) if (stanza.attrs[name]) attrs[name] = stanza.attrs[name]!;
  const payload: Node[] = payloadWithout(stanza, ROOM_OWNED);
  payload.push(element("x", { xmlns: NS.MUC_USER }), occupantIdElement(occupant));
  const message = element("message", attrs, payload);
  for (const session of recipient.sessions) out.push(addressed(message, session));
}

/**
 * §7.8.2 mediated invitation: the room forwards it, naming the inviter's real
 * JID (the invitee must learn who invites). Only occupants may invite.
 */
function mediatedInvitation(room: Room, inc: Incoming, invite: Element, out: Element[]): void {
  if (!inc.occupant) throw refuse.notInRoom();
  const to = parseJid(invite.attrs.to ?? "");
  if (!to) throw refuse.jidMalformed("An invitation needs a valid 'to'");
  const children: Node[] = [];
  const reason = invite.getChildText("reason");
  if (reason) children.push(element("reason", {}, [reason]));
  out.push(
    element("message", { from: room.jid, to: to.full }, [
      element("x", { xmlns: NS.MUC_USER }, [element("invite", { from: inc.from.full }, children)]),
    ]),
  );
}

