import type { Element, Node } from "@xmpp/xml";
import { parseJid } from "../../jid.ts";
import { formElement, readForm } from "../data-form.ts";
import { deferred, type Feature, type IqContext, type MucCore } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import type { Room } from "../room.ts";
import { archivedStanza, stanzaIdElement } from "../room-record.ts";
import type { ArchiveAnswer, ArchiveQuery } from "../storage.ts";
import { readPage } from "../rsm.ts";
import { refuse } from "../stanza-error.ts";
import { element, xmppDateTime } from "../stanza.ts";
import { booleanField } from "./config-fields.ts";

/**
 * The room's message archive, XEP-0313 `urn:xmpp:mam:2` with #extended, on
 * XEP-0359 stanza-ids and XEP-0059 paging.
 *
 * Every groupchat message with a body (and every subject change) of an
 * archived room gets `<stanza-id by='room'/>` before it is relayed; a
 * stanza-id a sender forged in the room's name is stripped (XEP-0359 §4).
 * The store keeps what was relayed (src/muc/recorder.ts); queries read it
 * after the turn (hooks.ts Deferred) and answer with one `<result/>` message
 * per archived stanza, then the `<fin/>`.
 */

const FIELDS = new Set(["FORM_TYPE", "start", "end", "with", "before-id", "after-id", "ids"]);

export function isArchived(core: MucCore, room: Room): boolean {
  return core.settings.archiveAllRooms || room.config.archiving;
}

/**
 * Who may read a room's archive (as Prosody's mod_muc_mam): its occupants;
 * in a members-only room members and above; elsewhere anyone but outcasts.
 */
function mayQuery({ room, occupant, from }: IqContext): boolean {
  if (occupant) return true;
  const affiliation = room!.affiliationOf(from.bare);
  if (room!.config.membersOnly) return affiliation === "member" || affiliation === "admin" || affiliation === "owner";
  return affiliation !== "outcast";
}

function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  // XEP-0082 DateTime: a date with a time and a zone.
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw refuse.badRequest(`'${name}' must be an XEP-0082 date and time, e.g. 2026-01-01T00:00:00Z`);
  return ms;
}

/** The query as the store takes it; refuses what it cannot honour, naming it. */
function queryOf(context: IqContext): ArchiveQuery {
  const { core, payload } = context;
  const form = readForm(payload);
  const filters: { -readonly [K in keyof ArchiveQuery]?: ArchiveQuery[K] } = {};
  if (form) {
    if (form.formType !== undefined && form.formType !== NS.MAM) throw refuse.badRequest(`The query form must be of type ${NS.MAM}`);
    for (const name of form.values.keys()) {
      if (!FIELDS.has(name)) throw refuse.badRequest(`This archive does not support the field '${name}'`);
    }
    const one = (name: string) => form.values.get(name)?.[0];
    filters.start = instant("start", one("start"));
    filters.end = instant("end", one("end"));
    const withJid = one("with");
    if (withJid !== undefined && withJid !== "") {
      const jid = parseJid(withJid);
      if (!jid) throw refuse.jidMalformed("'with' must be a JID");
      filters.with = jid.full;
    }
    filters.beforeId = one("before-id") || undefined;
    filters.afterId = one("after-id") || undefined;
    const ids = form.values.get("ids");
    if (ids && ids.length > 0) filters.ids = ids;
  }
  return { ...filters, ...readPage(payload.getChild("set", NS.RSM), core.settings.maxArchiveQueryResults) };
}

function fin(answer: Extract<ArchiveAnswer, { found: true }>, flip: boolean): Element {
  const children: Node[] = [];
  const ids = answer.messages.map((m) => m.id);
  if (ids.length > 0) children.push(element("first", {}, [ids[0]!]), element("last", {}, [ids[ids.length - 1]!]));
  children.push(element("count", {}, [String(answer.count)]));
  const attrs: Record<string, string> = {};
  if (answer.complete) attrs.complete = "true";
  if (flip) attrs.flipped = "true";
  return element("fin", { xmlns: NS.MAM, ...attrs }, [element("set", { xmlns: NS.RSM }, children)]);
}

function query(context: IqContext) {
  const { room, iq, payload } = context;
  const r = room!;
  if (!mayQuery(context)) throw refuse.forbidden("You may not read this room's archive");
  const q = queryOf(context);
  const queryId = payload.attrs.queryid;
  const flip = payload.getChild("flip-page") !== undefined;
  return deferred(
    (storage) => storage.queryArchive(r.jid, q),
    (answer, turn) => {
      if (!answer.found) throw refuse.itemNotFound(`No message '${answer.unknownId}' in this archive`);
      const messages = flip ? [...answer.messages].reverse() : answer.messages;
      for (const archived of messages) {
        const original = archivedStanza(archived);
        if (!original) continue;
        // The archived stanza as the room sent it, from the occupant JID (XEP-0313 §5.1.2).
        original.attrs = { ...original.attrs, xmlns: "jabber:client" };
        const result: Record<string, string> = { xmlns: NS.MAM, id: archived.id };
        if (queryId !== undefined) result.queryid = queryId;
        turn.out.push(
          element("message", { from: r.jid, to: iq.attrs.from! }, [
            element("result", result, [
              element("forwarded", { xmlns: NS.FORWARD }, [element("delay", { xmlns: NS.DELAY, stamp: xmppDateTime(archived.stamp) }), original]),
            ]),
          ]),
        );
      }
      // A flipped page's first/last keep the archive's order (XEP-0313 §4.3.1, #extended).
      return fin(answer, flip);
    },
  );
}

/** XEP-0313 §4.1.5: the fields a query may use. */
function queryForm(): Element {
  return element("query", { xmlns: NS.MAM }, [
    formElement("form", undefined, [
      { var: "FORM_TYPE", type: "hidden", value: NS.MAM },
      { var: "start", type: "text-single" },
      { var: "end", type: "text-single" },
      { var: "with", type: "jid-single" },
      { var: "before-id", type: "text-single" },
      { var: "after-id", type: "text-single" },
      { var: "ids", type: "list-multi" },
    ]),
  ]);
}

function archiveRoute(type: "get" | "set", handle: (context: IqContext) => ReturnType<typeof query> | Element) {
  return {
    to: "room" as const,
    type,
    xmlns: NS.MAM,
    name: "query",
    handle(context: IqContext) {
      if (!isArchived(context.core, context.room!)) throw refuse.serviceUnavailable("This room keeps no archive");
      return handle(context);
    },
  };
}

export const archive: Feature = {
  name: "archive",
  config: [
    {
      ...booleanField("muc#roomconfig_enablearchiving", "Archive the room's messages", "archiving"),
      // ejabberd's name for the same field.
      aliases: ["mam"],
      // With muc_log_all_rooms every room is archived: nothing to choose.
      offered: (core) => !core.settings.archiveAllRooms,
    },
  ],
  roomFeatures: (room, core) => (isArchived(core, room) ? [NS.MAM, NS.MAM_EXTENDED, NS.SID] : []),
  groupchat: [
    {
      priority: 200,
      filter({ core, room, stanza, payload, marks }) {
        // XEP-0359 §4: a stanza-id in the room's name comes from the room only.
        for (let i = payload.length - 1; i >= 0; i--) {
          const child = payload[i]!;
          if (typeof child !== "string" && child.name === "stanza-id" && child.attrs.xmlns === NS.SID && child.attrs.by === room.jid) {
            payload.splice(i, 1);
          }
        }
        const kept = stanza.getChild("body") !== undefined || stanza.getChild("subject") !== undefined;
        if (kept && isArchived(core, room)) marks.push(stanzaIdElement(room.jid, core.newId()));
        return undefined;
      },
    },
  ],
  iq: [archiveRoute("get", () => queryForm()), archiveRoute("set", query)],
};
