import type { Element, Node } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import type { Occupant, Role } from "./occupant.ts";
import type { Room } from "./room.ts";
import { addressed, element, frozen, payloadWithout } from "./stanza.ts";

/**
 * Occupant presence as XEP-0045 §7.2.3 shapes it: the user's own payload
 * (show, status, caps…), then `<x xmlns='…muc#user'>` with the item and status
 * codes, then the XEP-0421 occupant id. The room is semi-anonymous (§4.2):
 * the real JID goes only to moderators and to the occupant itself.
 */

/** Namespaces a client may not inject into what the room relays (XEP-0421 §4: strip occupant-id). */
export const ROOM_OWNED = new Set<string>([NS.MUC, NS.MUC_USER, NS.OCCUPANT_ID]);

export interface PresenceChange {
  type?: "unavailable";
  /** Status codes for everyone (e.g. 303, 307, 333). */
  statuses?: readonly string[];
  /** Status codes only the occupant's own sessions get (110 is always added). */
  selfStatuses?: readonly string[];
  /** `<item nick=…>`: the new nick of a §7.6 nick change. */
  newNick?: string;
  reason?: string;
  /** Nick of the moderator who acted (§8.2 kick). */
  actor?: string;
  /** Payload to show instead of the occupant's current presence (e.g. the leave's status text). */
  payload?: Node[];
  /** `<destroy>` for §10.9. */
  destroy?: Element;
  /** The role to show instead of the occupant's (`none` for a session that leaves alone). */
  role?: Role;
}

const occupantIds = new WeakMap<Occupant, Element>();

/** The occupant's XEP-0421 `<occupant-id/>`, one shared element per occupant. */
export function occupantIdElement(occupant: Occupant): Element {
  let el = occupantIds.get(occupant);
  if (el === undefined) {
    el = frozen(element("occupant-id", { xmlns: NS.OCCUPANT_ID, id: occupant.occupantId }));
    occupantIds.set(occupant, el);
  }
  return el;
}

const statusElements = new Map<string, Element>();

function statusElement(code: string): Element {
  let el = statusElements.get(code);
  if (el === undefined) {
    el = frozen(element("status", { code }));
    statusElements.set(code, el);
  }
  return el;
}

/** `<x>`s without anything occupant-specific, by affiliation, role and status codes: a handful in all. */
const plainMucUser = new Map<string, Element>();

function mucUser(occupant: Occupant, change: PresenceChange, jid: string | undefined, statuses: readonly string[]): Element {
  const affiliation = occupant.affiliation;
  const role = change.role ?? occupant.role;
  if (!jid && !change.newNick && !change.actor && !change.reason && !change.destroy) {
    const key = `${affiliation} ${role} ${statuses.join(" ")}`;
    let x = plainMucUser.get(key);
    if (x === undefined) {
      const children: Node[] = [element("item", { affiliation, role })];
      for (const code of statuses) children.push(statusElement(code));
      x = frozen(element("x", { xmlns: NS.MUC_USER }, children));
      plainMucUser.set(key, x);
    }
    return x;
  }
  const itemAttrs: Record<string, string> = { affiliation, role };
  if (jid) itemAttrs.jid = jid;
  if (change.newNick) itemAttrs.nick = change.newNick;
  const itemChildren: Node[] = [];
  if (change.actor) itemChildren.push(element("actor", { nick: change.actor }));
  if (change.reason) itemChildren.push(element("reason", {}, [change.reason]));
  const children: Node[] = [element("item", itemAttrs, itemChildren)];
  if (change.destroy) children.push(change.destroy);
  for (const code of statuses) children.push(statusElement(code));
  return element("x", { xmlns: NS.MUC_USER }, children);
}

/** The three variants of one occupant's presence: for others, for moderators, for itself. */
export interface PresenceTemplates {
  others: Element;
  moderators: Element;
  self: Element;
}

export function presenceTemplates(occupant: Occupant, change: PresenceChange = {}): PresenceTemplates {
  const payload = change.payload ?? payloadWithout(occupant.presence, ROOM_OWNED);
  const attrs: Record<string, string> = { from: occupant.jid };
  if (change.type) attrs.type = change.type;
  const statuses = change.statuses ?? [];
  const realJid = occupant.latestSession();
  const id = occupantIdElement(occupant);
  const make = (jid: string | undefined, codes: readonly string[]) =>
    element("presence", attrs, [...payload, mucUser(occupant, change, jid, codes), id]);
  const others = make(undefined, statuses);
  return {
    others,
    moderators: make(realJid, statuses),
    self: make(realJid, [...statuses, ...(change.selfStatuses ?? []), "110"]),
  };
}

interface Cached {
  readonly presence: Element;
  readonly role: Occupant["role"];
  readonly affiliation: Occupant["affiliation"];
  readonly jid: string;
  readonly session: string;
  readonly templates: PresenceTemplates;
}

const current = new WeakMap<Occupant, Cached>();

/**
 * An occupant's presence as it stands, for everyone who joins after it: the
 * same templates serve every newcomer until something they show changes
 * (presence, role, affiliation, nick, the session the real JID names). Each
 * join into a room of k occupants sends k of these; building them anew each
 * time was a tenth of a join's cost (bench profile).
 */
export function currentPresence(occupant: Occupant): PresenceTemplates {
  const session = occupant.latestSession();
  const hit = current.get(occupant);
  if (
    hit !== undefined &&
    hit.presence === occupant.presence &&
    hit.role === occupant.role &&
    hit.affiliation === occupant.affiliation &&
    hit.jid === occupant.jid &&
    hit.session === session
  ) {
    return hit.templates;
  }
  const templates = presenceTemplates(occupant);
  const { presence, role, affiliation, jid } = occupant;
  current.set(occupant, { presence, role, affiliation, jid, session, templates });
  return templates;
}

/** Send one occupant's presence to every session in the room, itself included. */
export function broadcastPresence(room: Room, occupant: Occupant, change: PresenceChange, out: Element[]): void {
  const t = presenceTemplates(occupant, change);
  for (const recipient of room.occupants.values()) {
    const template = recipient === occupant ? t.self : recipient.isModerator ? t.moderators : t.others;
    for (const session of recipient.sessions.keys()) out.push(addressed(template, session));
  }
  // The occupant may already be out of the roster (leave, kick): still tell it.
  if (room.occupants.get(occupant.nick) !== occupant) {
    for (const session of occupant.sessions.keys()) out.push(addressed(t.self, session));
  }
}

/** Send `template` to every session of every occupant. */
export function broadcast(room: Room, template: Element, out: Element[]): void {
  for (const recipient of room.occupants.values()) {
    for (const session of recipient.sessions.keys()) out.push(addressed(template, session));
  }
}

/** Presence of the room itself to one address, e.g. an unavailable for a cancelled join. */
export function selfUnavailable(from: string, to: string): Element {
  return element("presence", { from, to, type: "unavailable" }, [
    element("x", { xmlns: NS.MUC_USER }, [
      element("item", { affiliation: "none", role: "none" }),
      element("status", { code: "110" }),
    ]),
  ]);
}

