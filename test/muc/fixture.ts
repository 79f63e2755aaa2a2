import { Element } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import { MucService, type MucServiceOptions } from "../../src/muc/service.ts";
import { recorder } from "../../src/muc/recorder.ts";
import { RoomLoader } from "../../src/room-loader.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { silentLogger } from "../../src/log.ts";

export const DOMAIN = "rooms.test";
export const MUC = "http://jabber.org/protocol/muc";
export const MUC_USER = "http://jabber.org/protocol/muc#user";
export const MUC_ADMIN = "http://jabber.org/protocol/muc#admin";
export const MUC_OWNER = "http://jabber.org/protocol/muc#owner";
export const MUC_REGISTER = "http://jabber.org/protocol/muc#register";
export const MUC_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
export const DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const PING = "urn:xmpp:ping";
export const DELAY = "urn:xmpp:delay";
export const OCCUPANT_ID = "urn:xmpp:occupant-id:0";
export const DATA = "jabber:x:data";
export const REGISTER = "jabber:iq:register";
export const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** Parse one stanza written as XML. */
export function xml(source: string): Element {
  return parse(source) as Element;
}

export interface FixtureOptions extends Partial<MucServiceOptions> {
  /**
   * Record every change in this store (a fresh one by default), load rooms
   * from it on first use and run answers that read it (the router's part, in
   * one synchronous step: MemoryStorage answers at once). `restart()` then
   * builds a new service on the same store, as a new process would.
   */
  storage?: MemoryStorage;
}

/** A MUC service in memory with a controllable clock: stanza strings in, stanzas out. */
export function fixture(options: FixtureOptions = {}) {
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const { storage = new MemoryStorage(), ...serviceOptions } = options;
  const build = () => {
    const s = new MucService({ domain: DOMAIN, now: () => clock, secret: "test", ...serviceOptions });
    s.subscribe(recorder(storage));
    return { service: s, loader: new RoomLoader({ service: s, source: storage, logger: silentLogger }) };
  };
  let { service, loader } = build();
  const send = (stanza: string | Element, opts?: Parameters<MucService["handle"]>[2]): Element[] => {
    const out: Element[] = [];
    const element = typeof stanza === "string" ? xml(stanza) : stanza;
    const to = element.attrs.to?.split("/")[0];
    if (to?.includes("@")) {
      const ready = loader.prepare(to.toLowerCase());
      if (ready !== true) throw new Error(`room ${to} did not load synchronously: ${String(ready)}`);
    }
    const later = service.handle(element, out, opts);
    if (later) {
      const more = later.run(storage);
      if (more instanceof Promise) throw new Error("memory storage answered later");
      out.push(...more);
    }
    return out;
  };
  const iq = (from: string, to: string, type: string, payload: string, id = "iq1") =>
    send(`<iq type='${type}' id='${id}' from='${from}' to='${to}'>${payload}</iq>`);
  return {
    get service() {
      return service;
    },
    storage,
    /** A new process on the same storage: rooms with occupants come back at once, the rest on first use. */
    restart() {
      ({ service, loader } = build());
      for (const jid of storage.occupiedRooms() as readonly string[]) loader.prepare(jid);
    },
    send,
    iq,
    now: () => clock,
    advance(ms: number) {
      clock += ms;
    },
    /** Join `room` as `nick` from `from`; returns what was sent. */
    join(from: string, room: string, nick: string, extra = "") {
      return send(`<presence from='${from}' to='${room}@${DOMAIN}/${nick}'><x xmlns='${MUC}'>${extra}</x></presence>`);
    },
    /** A presence without type to `room/nick` from an occupant: update or nick change (§7.6, §7.7). */
    presence(from: string, room: string, nick: string, payload = "") {
      return send(`<presence from='${from}' to='${room}@${DOMAIN}/${nick}'>${payload}</presence>`);
    },
    leave(from: string, room: string, nick: string, payload = "") {
      return send(`<presence type='unavailable' from='${from}' to='${room}@${DOMAIN}/${nick}'>${payload}</presence>`);
    },
    say(from: string, room: string, body: string, id = "m1") {
      return send(`<message type='groupchat' id='${id}' from='${from}' to='${room}@${DOMAIN}'><body>${body}</body></message>`);
    },
    /** A private message to `room/nick` (§7.5). */
    whisper(from: string, room: string, nick: string, body: string, type = "chat", id = "pm1") {
      return send(`<message type='${type}' id='${id}' from='${from}' to='${room}@${DOMAIN}/${nick}'><body>${body}</body></message>`);
    },
    /** Submit the §10.2 configuration form with these fields (each one value, or several) as `from`; returns what was sent. */
    configure(from: string, room: string, fields: Record<string, string | readonly string[]>, id = "cfg1") {
      const body = Object.entries(fields)
        .map(([k, v]) => `<field var='${k}'>${(typeof v === "string" ? [v] : v).map((x) => `<value>${x}</value>`).join("")}</field>`)
        .join("");
      const form = `<x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${body}</x>`;
      return iq(from, `${room}@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'>${form}</query>`, id);
    },
    /** A muc#admin kick (§8.2) sent by `from`. */
    kick(from: string, room: string, nick: string, reason?: string, id = "kick1") {
      const r = reason === undefined ? "" : `<reason>${reason}</reason>`;
      return iq(from, `${room}@${DOMAIN}`, "set", `<query xmlns='${MUC_ADMIN}'><item nick='${nick}' role='none'>${r}</item></query>`, id);
    },
  };
}

export type Fixture = ReturnType<typeof fixture>;

/**
 * A fresh fixture with these sessions joined to the room `lobby`, in this
 * order: the first one creates it (and owns it), a session joining under a
 * nick that is already there is another session of that occupant.
 */
export function lobby(...sessions: (readonly [jid: string, nick: string])[]): Fixture {
  const f = fixture();
  for (const [jid, nick] of sessions) f.join(jid, "lobby", nick);
  return f;
}

export function to(stanzas: Element[], jid: string): Element[] {
  return stanzas.filter((s) => s.attrs.to === jid);
}

/** Every distinct `to` in order of first appearance. */
export function recipients(stanzas: Element[]): string[] {
  return [...new Set(stanzas.map((s) => s.attrs.to!))];
}

export function statuses(stanza: Element): string[] {
  return (stanza.getChild("x", MUC_USER)?.getChildren("status") ?? []).map((s) => s.attrs.code!);
}

/** The muc#user `<item/>` of an occupant presence. */
export function itemOf(stanza: Element): Element | undefined {
  return stanza.getChild("x", MUC_USER)?.getChild("item");
}

export function errorCondition(stanza: Element): string | undefined {
  const error = stanza.getChild("error");
  return error?.children.find((c): c is Element => typeof c !== "string" && c.name !== "text")?.name;
}

export function errorType(stanza: Element): string | undefined {
  return stanza.getChild("error")?.attrs.type;
}

/** `name:from` for compact order assertions. */
export function brief(stanza: Element): string {
  const type = stanza.attrs.type ? `(${stanza.attrs.type})` : "";
  return `${stanza.name}${type}:${stanza.attrs.from}`;
}

/** Occupant-id elements of a stanza (XEP-0421). */
export function occupantIds(stanza: Element): string[] {
  return stanza.getChildren("occupant-id", OCCUPANT_ID).map((e) => e.attrs.id!);
}

export interface SeenOccupant {
  role: string;
  affiliation: string;
  /** Real JID, when this viewer was shown it. */
  jid: string | undefined;
}

/** What one session believes about one room, built only from presence it received. */
export interface RoomView {
  /** Own nick, from the last self-presence (110). */
  self: string;
  occupants: Map<string, SeenOccupant>;
}

/**
 * Reconstructs, for every real session, the roster of every room it is in
 * purely from the presence stanzas it was sent — as a client would (XEP-0045
 * §7.2.3 roster, §7.6 303 renames, §7.14 leaves, 110 marks its own).
 */
export class RosterViews {
  /** real full JID → room bare JID → view */
  readonly views = new Map<string, Map<string, RoomView>>();

  constructor(readonly domain = DOMAIN) {}

  view(session: string, room: string): RoomView | undefined {
    return this.views.get(session)?.get(room);
  }

  feed(out: readonly Element[]): void {
    for (const stanza of out) this.#one(stanza);
  }

  #one(stanza: Element): void {
    if (stanza.name !== "presence" || stanza.attrs.type === "error") return;
    const from = stanza.attrs.from ?? "";
    const slash = from.indexOf("/");
    if (slash === -1) return;
    const room = from.slice(0, slash);
    const nick = from.slice(slash + 1);
    const session = stanza.attrs.to!;
    const codes = statuses(stanza);
    const item = itemOf(stanza);
    let rooms = this.views.get(session);
    const view = rooms?.get(room);
    if (stanza.attrs.type === "unavailable") {
      if (!view) return;
      if (codes.includes("303")) {
        view.occupants.delete(nick);
        return;
      }
      if (codes.includes("110")) {
        rooms!.delete(room); // this session is out of the room
        return;
      }
      view.occupants.delete(nick);
      return;
    }
    if (stanza.attrs.type !== undefined) return;
    if (!rooms) {
      rooms = new Map();
      this.views.set(session, rooms);
    }
    let v = view;
    if (!v) {
      v = { self: "", occupants: new Map() };
      rooms.set(room, v);
    }
    if (codes.includes("110")) v.self = nick;
    v.occupants.set(nick, { role: item?.attrs.role ?? "?", affiliation: item?.attrs.affiliation ?? "?", jid: item?.attrs.jid });
  }
}

/**
 * Differences between every session's view and the service's real state;
 * empty when they agree. A session in a room must see exactly the room's
 * occupants with their roles and affiliations, and itself under its nick; a
 * session that is not in a room must not believe it is.
 */
export function viewMismatches(views: RosterViews, service: MucService): string[] {
  const problems: string[] = [];
  for (const room of service.rooms.values()) {
    const expected = [...room.occupants.values()].map((o) => `${o.nick}:${o.role}/${o.affiliation}`).sort();
    for (const [session, occupant] of room.sessions) {
      const view = views.view(session, room.jid);
      if (!view) {
        problems.push(`${session} is in ${room.jid} as ${occupant.nick} but has no view of it`);
        continue;
      }
      const seen = [...view.occupants].map(([nick, o]) => `${nick}:${o.role}/${o.affiliation}`).sort();
      if (JSON.stringify(seen) !== JSON.stringify(expected)) {
        problems.push(`${session} in ${room.jid} sees [${seen.join(", ")}] but the room holds [${expected.join(", ")}]`);
      }
      if (view.self !== occupant.nick) problems.push(`${session} in ${room.jid} believes it is '${view.self}', room says '${occupant.nick}'`);
    }
  }
  for (const [session, rooms] of views.views) {
    for (const roomJid of rooms.keys()) {
      if (!service.rooms.get(roomJid)?.sessions.has(session)) problems.push(`${session} believes it is in ${roomJid} but is not`);
    }
  }
  return problems;
}

/** A presence built element by element, for attribute values XML text cannot carry. */
export function presenceTo(from: string, to: string, children: Element[] = [new Element("x", { xmlns: MUC })]): Element {
  const p = new Element("presence", { from, to });
  for (const c of children) p.cnode(c);
  return p;
}
