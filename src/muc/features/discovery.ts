import type { Element, Node } from "@xmpp/xml";
import type { Feature, IqContext } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * XEP-0030 discovery of the service (XEP-0045 §6.1-6.3) and of its rooms
 * (§6.4-6.5). What a room is, is what its features say: each contributes its
 * `<feature var>`s and muc#roominfo fields (hooks.ts DiscoHooks).
 */

/** What every room is until the features that would change it exist (issue: the rest of XEP-0045). */
const ROOM_BASE = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.MUC, "muc_open", "muc_semianonymous", "muc_unmoderated", "muc_unsecured", NS.MUC_STABLE_ID];

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

/** XEP-0059 pages of the room list: at most this many items, whatever `<max>` asks. */
export const ITEMS_PAGE = 100;
/** …and at most this many characters of JIDs and names, so a page stays far below any server's stanza limit. */
const PAGE_CHARS = 64 * 1024;

/**
 * §6.3: the public rooms, with their names, in pages (XEP-0059): ordered by
 * JID, so `<after>`/`<before>` name a place in the list even when that room
 * is gone meanwhile. A list of one page without `<set/>` asked is answered
 * as before, without `<set/>`.
 */
function serviceItems({ core, payload }: IqContext): Element {
  noNode(payload);
  const rooms = [...core.rooms.values()].filter((room) => room.config.public).sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  const rsm = payload.getChild("set", NS.RSM);
  const maxText = rsm?.getChildText("max");
  const max = maxText == null ? ITEMS_PAGE : Number(maxText);
  if (!Number.isSafeInteger(max) || max < 0 || (maxText != null && !/^\d+$/.test(maxText.trim()))) throw refuse.badRequest("RSM max must be a non-negative integer");
  const limit = Math.min(max, ITEMS_PAGE);
  const after = rsm?.getChildText("after");
  const before = rsm?.getChild("before");
  let start = 0;
  let end = rooms.length;
  const indexOf = (found: (jid: string) => boolean) => {
    const i = rooms.findIndex((room) => found(room.jid));
    return i === -1 ? rooms.length : i;
  };
  if (after != null) start = indexOf((jid) => jid > after);
  if (before) {
    const text = before.getText();
    // §2.5: an empty <before/> asks for the last page.
    if (text !== "") end = indexOf((jid) => jid >= text);
    start = Math.max(start, end - limit);
  }
  const items: Node[] = [];
  let chars = 0;
  for (let i = start; i < end && items.length < limit; i++) {
    const room = rooms[i]!;
    const name = room.config.name || room.node;
    chars += room.jid.length + name.length;
    if (chars > PAGE_CHARS && items.length > 0) break;
    items.push(element("item", { jid: room.jid, name }));
  }
  if (rsm || items.length < rooms.length) {
    const set: Node[] = [];
    if (items.length > 0) {
      set.push(element("first", { index: String(start) }, [(items[0] as Element).attrs.jid!]));
      set.push(element("last", {}, [(items.at(-1) as Element).attrs.jid!]));
    }
    set.push(element("count", {}, [String(rooms.length)]));
    items.push(element("set", { xmlns: NS.RSM }, set));
  }
  return element("query", { xmlns: NS.DISCO_ITEMS }, items);
}

/** §6.4 with the muc#roominfo extension (XEP-0128), so clients can show the room before joining. */
function roomInfo({ core, room, occupant, payload }: IqContext): Element {
  noNode(payload);
  const r = room!;
  const asker = occupant ? "occupant" : "outsider";
  const fields = [field("FORM_TYPE", NS.MUC_ROOMINFO, "hidden")];
  for (const f of core.hooks.roomInfo(r, asker, core)) fields.push(field(f.var, f.value, f.type));
  // The head count is for occupants only: a user the gate keeps out learns nothing of who is inside.
  if (asker === "occupant") fields.push(field("muc#roominfo_occupants", String(r.occupants.size)));
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
