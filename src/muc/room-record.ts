import type { Element, Node } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import type { HistoryEntry } from "./history.ts";
import { NS } from "./namespaces.ts";
import type { Occupant } from "./occupant.ts";
import { historyEntry, type RestoredState, type Room } from "./room.ts";
import type { Subject } from "./room-change.ts";
import type { RoomConfig } from "./room-config.ts";
import { element } from "./stanza.ts";
import type { ArchivedMessage, OccupantRecord, RoomRecord, StoredRoom } from "./storage.ts";

/**
 * A room as the storage port keeps it, and back. `data` is the core's own
 * document; its `v` lets a later mucgate read what an earlier one wrote, and
 * a value of the wrong type is ignored (the default applies), so a document
 * never breaks a room.
 */
const VERSION = 1;

interface StoredSubject {
  readonly text: string;
  readonly from: string;
  readonly by: string | undefined;
  readonly stamp: number;
  /** The subject message as broadcast, XML. */
  readonly xml: string;
}

interface RoomData {
  readonly v: number;
  readonly config: Partial<RoomConfig>;
  readonly subject?: StoredSubject | undefined;
}

export function roomRecord(room: Room): RoomRecord {
  const subject = room.subject;
  const data: RoomData = {
    v: VERSION,
    config: room.config,
    subject: subject && { text: subject.text, from: subject.from, by: subject.by, stamp: subject.stamp, xml: subject.message.toString() },
  };
  return {
    jid: room.jid,
    persistent: room.config.persistent,
    public: room.config.public,
    name: room.config.name,
    createdAt: room.createdAt,
    data: JSON.parse(JSON.stringify(data)) as Record<string, unknown>,
  };
}

/** The configuration stored for a room, over `defaults` for anything it lacks (a field added since it was saved). */
export function storedConfig(stored: StoredRoom, defaults: RoomConfig): RoomConfig {
  const data = stored.record.data as Partial<RoomData>;
  const config: Record<string, unknown> = { ...defaults };
  const defaultsByKey = defaults as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(data.config ?? {})) {
    if (Object.hasOwn(defaults, key) && typeof value === typeof defaultsByKey[key]) config[key] = value;
  }
  // The columns are the truth for what listings read.
  config.persistent = stored.record.persistent;
  config.public = stored.record.public;
  return config as unknown as RoomConfig;
}

function parseXml(xml: string): Element | undefined {
  try {
    return parse(xml) as Element;
  } catch {
    return undefined;
  }
}

/** An occupant's presence payload as storage keeps it: the elements, serialised one after another. */
export function presenceXml(payload: readonly Node[]): string {
  return payload.map((node) => (typeof node === "string" ? "" : node.toString())).join("");
}

export function parsePresence(xml: string): Node[] {
  if (xml === "") return [];
  return parseXml(`<x>${xml}</x>`)?.children.filter((c): c is Element => typeof c !== "string") ?? [];
}

export function occupantRecord(occupant: Occupant): OccupantRecord {
  return {
    nick: occupant.nick,
    bare: occupant.bare,
    role: occupant.role === "none" ? "participant" : occupant.role,
    sessions: [...occupant.sessions],
    presence: presenceXml(occupant.payload),
    joinedAt: occupant.joinedAt,
  };
}

/** The stanza-id element the room stamps on what it archives (XEP-0359). */
export function stanzaIdElement(roomJid: string, id: string): Element {
  return element("stanza-id", { xmlns: NS.SID, by: roomJid, id });
}

/** An archived message back as an element, as stored (without its stanza-id). */
export function archivedStanza(archived: ArchivedMessage): Element | undefined {
  return parseXml(archived.stanza);
}

/** An archived message back as the room relayed it, with its stanza-id. */
export function archivedElement(roomJid: string, archived: ArchivedMessage): Element | undefined {
  const message = parseXml(archived.stanza);
  if (!message) return undefined;
  message.children.push(stanzaIdElement(roomJid, archived.id));
  return message;
}

/** What `Room.restore` needs, from what storage kept (`history`: the archive's newest messages, oldest first). */
export function restoredState(stored: StoredRoom, history: readonly ArchivedMessage[]): RestoredState {
  const data = stored.record.data as Partial<RoomData>;
  const jid = stored.record.jid;
  let subject: Subject | undefined;
  const s = data.subject;
  if (s && typeof s.xml === "string") {
    const message = parseXml(s.xml);
    if (message) subject = { text: String(s.text ?? ""), from: String(s.from ?? jid), by: s.by, stamp: Number(s.stamp) || 0, message };
  }
  const entries: HistoryEntry[] = [];
  for (const archived of history) {
    const message = archivedElement(jid, archived);
    if (message && message.getChild("body") !== undefined) entries.push(historyEntry(jid, message, archived.stamp));
  }
  return {
    affiliations: stored.affiliations.map((a) => [a.jid, { affiliation: a.affiliation, reason: a.reason }] as const),
    registrations: stored.registrations.map((r) => [r.jid, r.nick] as const),
    subject,
    history: entries,
    // Join order, as the roster was (§7.2.3 sends it in that order); storage keeps no order of its own.
    occupants: [...stored.occupants].sort((a, b) => a.joinedAt - b.joinedAt).map((o) => ({ ...o, payload: parsePresence(o.presence) })),
  };
}
