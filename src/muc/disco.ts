import type { Element, Node } from "@xmpp/xml";
import type { MucContext } from "./context.ts";
import { NS } from "./namespaces.ts";
import type { Room } from "./room.ts";
import { element } from "./stanza.ts";

/** XEP-0030 answers for the service and its rooms. */

const SERVICE_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.MUC, NS.PING, NS.OCCUPANT_ID];

/**
 * XEP-0045 §6.4: what a room is. The set is fixed because every mucgate room
 * is the same kind: open to all (the gate decides who enters), public unless
 * its owner hides it, semi-anonymous, temporary, unmoderated, without password.
 */
function roomFeatures(room: Room): string[] {
  return [
    NS.DISCO_INFO,
    NS.DISCO_ITEMS,
    NS.MUC,
    "muc_open",
    room.config.public ? "muc_public" : "muc_hidden",
    "muc_semianonymous",
    "muc_temporary",
    "muc_unmoderated",
    "muc_unsecured",
    NS.MUC_SELF_PING,
    NS.OCCUPANT_ID,
    NS.MUC_STABLE_ID,
    NS.PING,
    NS.REGISTER,
  ];
}

function features(vars: string[]): Element[] {
  return vars.map((v) => element("feature", { var: v }));
}

function field(varName: string, value: string, type?: string): Element {
  const attrs: Record<string, string> = { var: varName };
  if (type) attrs.type = type;
  return element("field", attrs, [element("value", {}, [value])]);
}

export function serviceInfo(): Element {
  return element("query", { xmlns: NS.DISCO_INFO }, [
    element("identity", { category: "conference", type: "text", name: "mucgate" }),
    ...features(SERVICE_FEATURES),
  ]);
}

/** §6.3: the public rooms, with their names. */
export function serviceItems(ctx: MucContext): Element {
  const items: Node[] = [];
  for (const room of ctx.rooms.values()) {
    if (!room.config.public) continue;
    items.push(element("item", { jid: room.jid, name: room.config.name || room.node }));
  }
  return element("query", { xmlns: NS.DISCO_ITEMS }, items);
}

/**
 * §6.4 with the muc#roominfo extension (XEP-0128) so clients can show the
 * room before joining. What the owner published (name, description) is for
 * anyone; what happens inside (subject, head count) only for occupants: a
 * user the gate keeps out must learn nothing of the room (DESIGN.md).
 */
export function roomInfo(room: Room, asker: "occupant" | "outsider"): Element {
  const fields = [
    field("FORM_TYPE", NS.MUC_ROOMINFO, "hidden"),
    field("muc#roominfo_description", room.config.description),
    field("muc#roomconfig_roomname", room.config.name),
    field("muc#roomconfig_changesubject", room.config.changeSubject ? "1" : "0"),
  ];
  if (asker === "occupant") {
    fields.push(
      field("muc#roominfo_subject", room.subject?.getChildText("subject") ?? ""),
      field("muc#roominfo_occupants", String(room.occupants.size)),
    );
  }
  return element("query", { xmlns: NS.DISCO_INFO }, [
    element("identity", { category: "conference", type: "text", name: room.config.name || room.node }),
    ...features(roomFeatures(room)),
    element("x", { xmlns: NS.DATA, type: "result" }, fields),
  ]);
}

/** §6.5: a room MAY list its occupants; mucgate does not, so non-occupants learn nothing of who is inside. */
export function roomItems(): Element {
  return element("query", { xmlns: NS.DISCO_ITEMS });
}
