import type { Element, Node } from "@xmpp/xml";
import { History } from "./history.ts";
import { element } from "./stanza.ts";
import type { Affiliation, Occupant } from "./occupant.ts";

/** The room settings an owner can change (XEP-0045 §10.2, the subset mucgate implements). */
export interface RoomConfig {
  name: string;
  description: string;
  /** muc_public vs muc_hidden: listed in the service's disco#items. */
  public: boolean;
  /** Whether participants, not only moderators, may change the subject (§8.1). */
  changeSubject: boolean;
}

/**
 * One room's state as plain data. Rooms are temporary (muc_temporary): they
 * exist while someone is in them, and the service drops them when the last
 * occupant leaves. The operations on a room live beside it, one use case a
 * file (join.ts, leave.ts, …); this class only keeps the indexes consistent.
 */
export class Room {
  /** Nick → occupant. */
  readonly occupants = new Map<string, Occupant>();
  /** Real full JID of each session → its occupant. */
  readonly sessions = new Map<string, Occupant>();
  /** Real bare JID → affiliation other than none (§5.2). */
  readonly affiliations = new Map<string, Affiliation>();
  /** Real bare JID → nick registered with the room (§7.10). */
  readonly registrations = new Map<string, string>();
  /** The subject message as broadcast, without `to`; undefined until someone sets one (§8.1). */
  subject: Element | undefined;
  /** What a newcomer gets while no subject is set: an empty `<subject/>` from the room (§7.2.16). */
  readonly noSubject: Element;
  readonly history: History;
  readonly config: RoomConfig;

  constructor(
    /** Normalised bare JID, `node@service`. */
    readonly jid: string,
    readonly node: string,
    historySize: number,
  ) {
    this.noSubject = element("message", { type: "groupchat", from: jid }, [element("subject", {})]);
    this.history = new History(historySize);
    this.config = { name: "", description: "", public: true, changeSubject: false };
  }

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare) ?? "none";
  }

  /** The bare JID that registered `nick`, if any (§7.10: reserved nicks). */
  registrantOf(nick: string): string | undefined {
    for (const [bare, registered] of this.registrations) if (registered === nick) return bare;
    return undefined;
  }

  addOccupant(occupant: Occupant): void {
    this.occupants.set(occupant.nick, occupant);
    for (const session of occupant.sessions) this.sessions.set(session, occupant);
  }

  removeOccupant(occupant: Occupant): void {
    if (this.occupants.get(occupant.nick) === occupant) this.occupants.delete(occupant.nick);
    for (const session of occupant.sessions) {
      if (this.sessions.get(session) === occupant) this.sessions.delete(session);
    }
  }

  addSession(occupant: Occupant, session: string, payload: Node[]): void {
    occupant.sessions.add(session);
    occupant.payload = payload;
    this.sessions.set(session, occupant);
  }

  /** Drop one session; `true` when it was the occupant's last. */
  removeSession(occupant: Occupant, session: string): boolean {
    occupant.sessions.delete(session);
    this.sessions.delete(session);
    return occupant.sessions.size === 0;
  }

  renameOccupant(occupant: Occupant, nick: string): void {
    this.occupants.delete(occupant.nick);
    occupant.rename(nick);
    this.occupants.set(nick, occupant);
  }

  get isEmpty(): boolean {
    return this.occupants.size === 0;
  }
}
