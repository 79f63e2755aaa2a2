import type { Element, Node } from "@xmpp/xml";
import { deferred, type Feature, type IqContext } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { readPage } from "../rsm.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * XEP-0030 discovery of the service (XEP-0045 §6.1-6.3) and of its rooms
 * (§6.4-6.5). What a room is, is what its features say: each contributes its
 * `<feature var>`s and muc#roominfo fields (hooks.ts DiscoHooks).
 */

/** What every room is; the features add what varies (muc_open/membersonly, semianonymous/nonanonymous, …). */
const ROOM_BASE = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.MUC, NS.MUC_STABLE_ID];

function features(vars: readonly string[]): Element[] {
  return vars.map((v) => element("feature", { var: v }));
}

function field(name: string, value: string, type?: string): Element {
  const attrs: Record<string, string> = { var: name };
  if (type) attrs.type = type;
  return element("field", attrs, [element("value", {}, [value])]);
}

function noNode(payload: Element): void {
  if (payload.attrs.node) throw refuse.itemNotFound("No such node");
}

function serviceInfo({ core, payload }: IqContext): Element {
  noNode(payload);
  return element("query", { xmlns: NS.DISCO_INFO }, [
    element("identity", { category: "conference", type: "text", name: "mucgate" }),
    ...features([NS.DISCO_INFO, NS.DISCO_ITEMS, NS.MUC, ...core.hooks.serviceFeatures]),
  ]);
}

/** Most rooms in one disco#items page, asked for or not (XEP-0059 §2.1 lets the service limit it). */
const ROOM_PAGE_SIZE = 100;

/**
 * §6.3: the public rooms with their names — every one, stored or in memory,
 * read from storage a page at a time (XEP-0059: `<max/>`, `<after/>` or
 * `<before/>` a room JID, an empty `<before/>` for the last page), so a
 * service with 100,000 rooms answers one page and stays in bounds.
 */
function serviceItems({ payload }: IqContext) {
  noNode(payload);
  const set = payload.getChild("set", NS.RSM);
  const { max: limit, after: afterText, before } = readPage(set, ROOM_PAGE_SIZE);
  const after = afterText || undefined;
  return deferred(
    (storage) => storage.listPublicRooms({ after, before, limit }), // readPage refused both at once
    ({ rooms, total }) => {
      const items: Node[] = rooms.map((r) => element("item", { jid: r.jid, name: r.name || r.jid.slice(0, r.jid.indexOf("@")) }));
      // Paging is shown when asked for, or when the list did not fit one page.
      if (set || total > rooms.length) {
        const page: Node[] = [];
        if (rooms.length > 0) page.push(element("first", {}, [rooms[0]!.jid]), element("last", {}, [rooms.at(-1)!.jid]));
        page.push(element("count", {}, [String(total)]));
        items.push(element("set", { xmlns: NS.RSM }, page));
      }
      return element("query", { xmlns: NS.DISCO_ITEMS }, items);
    },
  );
}

/** §6.4 with the muc#roominfo extension (XEP-0128), so clients can show the room before joining. */
function roomInfo({ core, room, occupant, payload }: IqContext): Element {
  noNode(payload);
  const r = room!;
  const asker = occupant ? "occupant" : "outsider";
  const fields = [field("FORM_TYPE", NS.MUC_ROOMINFO, "hidden")];
  for (const f of core.hooks.roomInfo(r, asker, core)) fields.push(field(f.var, f.value, f.type));
  return element("query", { xmlns: NS.DISCO_INFO }, [
    element("identity", { category: "conference", type: "text", name: r.config.name || r.node }),
    ...features([...ROOM_BASE, ...core.hooks.roomFeatures(r, core)]),
    element("x", { xmlns: NS.DATA, type: "result" }, fields),
  ]);
}

export const discovery: Feature = {
  name: "discovery",
  iq: [
    { to: "service", type: "get", xmlns: NS.DISCO_INFO, name: "query", handle: serviceInfo },
    { to: "service", type: "get", xmlns: NS.DISCO_ITEMS, name: "query", handle: serviceItems },
    { to: "room", type: "get", xmlns: NS.DISCO_INFO, name: "query", handle: roomInfo },
    // §6.5: a room MAY list its occupants; this one does not, so non-occupants learn nothing of who is inside.
    { to: "room", type: "get", xmlns: NS.DISCO_ITEMS, name: "query", handle: () => element("query", { xmlns: NS.DISCO_ITEMS }) },
  ],
};
