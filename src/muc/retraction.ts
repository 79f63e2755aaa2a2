import type { Element, Node } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import type { RoomChange } from "./room-change.ts";
import { element, xmppDateTime } from "./stanza.ts";

/** XEP-0424 retractions and XEP-0425 moderation, as stanzas. */

type Retracted = Extract<RoomChange, { kind: "message-retracted" }>;

function moderated(change: Retracted): Node[] {
  if (!change.moderator) return [];
  return [
    element("moderated", { xmlns: NS.MODERATE, by: change.moderator.jid }, [element("occupant-id", { xmlns: NS.OCCUPANT_ID, id: change.moderator.occupantId })]),
  ];
}

function reason(change: Retracted): Node[] {
  return change.reason ? [element("reason", {}, [change.reason])] : [];
}

/** XEP-0425 §4: what the room tells every occupant when a moderator retracts a message (no `to`). */
export function moderationNotice(roomJid: string, change: Retracted, id: string): Element {
  return element("message", { type: "groupchat", from: roomJid, id }, [
    element("retract", { xmlns: NS.RETRACT, id: change.id }, [...moderated(change), ...reason(change)]),
  ]);
}

/**
 * XEP-0424 §5.2 tombstone: what the archive keeps instead of the message —
 * who sent it (its occupant JID, occupant id and message id), that it was
 * retracted, when and by whom; never its body again.
 */
export function tombstone(change: Retracted): Element {
  const { original } = change;
  const kept: Node[] = [element("retracted", { xmlns: NS.RETRACT, stamp: xmppDateTime(change.stamp) }, [...moderated(change), ...reason(change)])];
  for (const child of original.children) {
    if (typeof child !== "string" && child.name === "occupant-id" && child.attrs.xmlns === NS.OCCUPANT_ID) kept.push(child);
  }
  return element(original.name, original.attrs, kept);
}

/** Whether an archived message is already a tombstone. */
export function isTombstone(message: Element): boolean {
  return message.getChild("retracted", NS.RETRACT) !== undefined;
}
