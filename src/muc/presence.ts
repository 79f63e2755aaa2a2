import type { Element, Node } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import type { Occupant, Role } from "./occupant.ts";
import type { Room } from "./room.ts";
import { addressed, element, frozen, payloadWithout } from "./stanza.ts";

/**
 * Occupant presence as XEP-0045 §7.2.3 shapes it: the user's own payload
 * (show, status, caps…), then `<x xmlns='…muc#user'>` with the item and status
 * codes, then the XEP-0421 occupant id. In a semi-anonymous room (§4.2) the
 * real JID goes only to moderators and to the occupant itself; in a
 * non-anonymous one to everyone (`seesRealJids`).
 */

/** Namespaces a client may not inject into what the room relays (XEP-0421 §4: strip occupant-id). */
export const ROOM_OWNED = new Set<string>([NS.MUC, NS.MUC_USER, NS.OCCUPANT_ID]);

/** What of a user's presence the room relays: its children without the MUC elements. */
export function presencePayload(stanza: Element): Node[] {
  return payloadWithout(stanza, ROOM_OWNED);
}

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
  payload?: readonly Node[];
  /** `<destroy>` for §10.9. */
  destroy?: Element;
  /** The role to show instead of the occupant's (`none` for a session that leaves alone). */
  role?: Role;
  /** The occupant JID to send from instead of the occupant's (its old nick, §7.6). */
  from?: string;
  /** The real JID to show in the self and moderators' copies instead of the latest session's. */
  session?: string;
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

/**
 * Whether someone with `role` is shown occupants' real JIDs: moderators in
 * semi-anonymous rooms, everyone in non-anonymous ones (§4.2, §10.2 whois).
 */
export function seesRealJids(room: Room, role: Role): boolean {
  return role === "moderator" || room.config.whois === "anyone";
}

/** Non-anonymous rooms say so in every self-presence on entering (§7.2.4, status 100). */
export function joinStatuses(room: Room): readonly string[] {
  return room.config.whois === "anyone" ? ["100"] : [];
}

/** Who a variant of an occupant's presence is for: semi-anonymous rooms show the real JID to moderators and to the occupant itself. */
export type Audience = "others" | "moderators" | "self";

/**
 * One variant of an occupant's presence as a template (no `to`): its payload,
 * the muc#user `<x/>`, then the marks features add (XEP-0421 occupant id).
 */
export function presenceFor(occupant: Occupant, change: PresenceChange, audience: Audience, marks: readonly Element[]): Element {
  const attrs: Record<string, string> = { from: change.from ?? occupant.jid };
  if (change.type) attrs.type = change.type;
  const statuses = change.statuses ?? [];
  const codes = audience === "self" ? [...statuses, ...(change.selfStatuses ?? []), "110"] : statuses;
  const jid = audience === "others" ? undefined : (change.session ?? occupant.latestSession());
  const payload = change.type === "unavailable" ? statusOnly(change.payload ?? []) : (change.payload ?? occupant.payload);
  return element("presence", attrs, [...payload, mucUser(occupant, change, jid, codes), ...marks]);
}

/**
 * An unavailable (a leave, a kick, the 303 of a nick change) keeps only the
 * leaver's `<status/>` text: clients that read the first `<x/>` (profanity)
 * would miss the muc#user one behind a vCard-update `<x/>` (XEP-0153).
 */
function statusOnly(payload: readonly Node[]): Node[] {
  return payload.filter((n): n is Element => typeof n !== "string" && n.name === "status" && (n.attrs.xmlns === undefined || n.attrs.xmlns === "jabber:client"));
}

interface Cached {
  readonly payload: readonly Node[];
  readonly role: Occupant["role"];
  readonly affiliation: Occupant["affiliation"];
  readonly jid: string;
  readonly session: string;
  others?: Element;
  moderators?: Element;
}

const current = new WeakMap<Occupant, Cached>();

/**
 * An occupant's presence as it stands, for someone who joins after it: the
 * same template serves every newcomer until something it shows changes
 * (payload, role, affiliation, nick, the session the real JID names). Each
 * join into a room of k occupants sends k of these; building them anew each
 * time was a tenth of a join's cost (bench profile). Only the variants asked
 * for are built: most rooms never need the moderators' one of most occupants.
 */
export function currentPresence(occupant: Occupant, audience: "others" | "moderators", marks: readonly Element[]): Element {
  const session = occupant.latestSession();
  let hit = current.get(occupant);
  if (
    hit === undefined ||
    hit.payload !== occupant.payload ||
    hit.role !== occupant.role ||
    hit.affiliation !== occupant.affiliation ||
    hit.jid !== occupant.jid ||
    hit.session !== session
  ) {
    const { payload, role, affiliation, jid } = occupant;
    hit = { payload, role, affiliation, jid, session };
    current.set(occupant, hit);
  }
  return (hit[audience] ??= presenceFor(occupant, {}, audience, marks));
}

/**
 * Send one occupant's presence to every session in the room, itself
 * included. An occupant already out of the roster (leave, kick, §8.2) hears
 * of it first, in `out`; the room's copies go to `roster` — `out` unless the
 * caller must put something between them (a kick's IQ result).
 */
export function broadcastPresence(
  room: Room,
  occupant: Occupant,
  change: PresenceChange,
  marks: readonly Element[],
  out: Element[],
  roster: Element[] = out,
): void {
  // Variants are built on first need: a room of participants needs no moderators' copy.
  let others: Element | undefined;
  let moderators: Element | undefined;
  let self: Element | undefined;
  if (room.occupants.get(occupant.nick) !== occupant) {
    self = presenceFor(occupant, change, "self", marks);
    for (const session of occupant.sessions) out.push(addressed(self, session));
  }
  for (const recipient of room.occupants.values()) {
    const template =
      recipient === occupant
        ? (self ??= presenceFor(occupant, change, "self", marks))
        : seesRealJids(room, recipient.role)
          ? (moderators ??= presenceFor(occupant, change, "moderators", marks))
          : (others ??= presenceFor(occupant, change, "others", marks));
    for (const session of recipient.sessions) roster.push(addressed(template, session));
  }
}

/** Send `template` to every session of every occupant. */
export function broadcast(room: Room, template: Element, out: Element[]): void {
  for (const recipient of room.occupants.values()) {
    for (const session of recipient.sessions) out.push(addressed(template, session));
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

