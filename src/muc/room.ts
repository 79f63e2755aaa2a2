import type { Element, Node } from "@xmpp/xml";
import { History, type HistoryEntry } from "./history.ts";
import { NS } from "./namespaces.ts";
import { OccupantState, type Affiliation, type Occupant, type Role } from "./occupant.ts";
import type { LeaveCause, RoomChange, Subject } from "./room-change.ts";
import type { RoomConfig } from "./room-config.ts";
import { element, xmppDateTime } from "./stanza.ts";
import type { Turn } from "./turn.ts";

/**
 * A relayed message as §7.2.15 history keeps it: stamped with XEP-0203 delay
 * from the room. maxchars counts "the complete XML stanzas", approximated
 * with the stanza as stored; `to` differs per recipient and is left out.
 */
export function historyEntry(roomJid: string, message: Element, stamp: number): HistoryEntry {
  const delayed = element("message", message.attrs, [
    ...message.children,
    element("delay", { xmlns: NS.DELAY, from: roomJid, stamp: xmppDateTime(stamp) }),
  ]);
  const xml = delayed.toString();
  return { message: delayed, stamp, chars: xml.length, bytes: Buffer.byteLength(xml) };
}

/** An affiliation other than none, with the reason given for it (§9). */
export interface AffiliationEntry {
  readonly affiliation: Exclude<Affiliation, "none">;
  readonly reason: string | undefined;
}

/** What a room was, as storage kept it (Room.restore). */
export interface RestoredState {
  readonly affiliations: Iterable<readonly [string, AffiliationEntry]>;
  readonly registrations: Iterable<readonly [string, string]>;
  readonly subject: Subject | undefined;
  /** Oldest first. */
  readonly history: readonly HistoryEntry[];
  readonly occupants: readonly {
    readonly nick: string;
    readonly bare: string;
    readonly role: Exclude<Role, "none">;
    readonly sessions: readonly string[];
    readonly payload: readonly Node[];
    readonly joinedAt: number;
  }[];
}

export interface RoomOptions {
  /** Normalised bare JID, `node@service`. */
  readonly jid: string;
  readonly node: string;
  readonly config: RoomConfig;
  /** Messages of §7.2.15 history kept in memory. */
  readonly historySize: number;
  /** Their bytes together, at most (0: no bound); the oldest go first. */
  readonly historyBytes?: number;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** XEP-0421 occupant id of a real bare JID in this room. */
  readonly occupantId: (bare: string) => string;
  /** Every change, as it happens (see room-change.ts). Must not throw. */
  readonly emit: (room: Room, change: RoomChange, turn: Turn) => void;
}

/**
 * One room: its state, and the only code that changes it. Every method that
 * writes makes one `RoomChange` and emits it before returning; what others
 * see of the room (the occupants' presence, the store's records) follows
 * from those changes. Methods assume their preconditions were checked by the
 * caller (the features decide what is allowed; the room only keeps its
 * indexes consistent) and assert only what would corrupt them.
 */
export class Room {
  readonly jid: string;
  readonly node: string;
  readonly createdAt: number;
  readonly #options: RoomOptions;
  readonly #occupants = new Map<string, OccupantState>();
  readonly #sessions = new Map<string, OccupantState>();
  readonly #affiliations = new Map<string, AffiliationEntry>();
  /** Outcast records of domain JIDs (no `@`): affiliationOf looks up the domain only when there are some. */
  #domainBans = 0;
  /** bare JID → registered nick (§7.10), and back. */
  readonly #registrations = new Map<string, string>();
  readonly #registrants = new Map<string, string>();
  readonly #history: History;
  #config: RoomConfig;
  #subject: Subject | undefined;
  #destroyed = false;

  constructor(options: RoomOptions) {
    this.#options = options;
    this.jid = options.jid;
    this.node = options.node;
    this.createdAt = options.createdAt;
    this.#config = Object.freeze({ ...options.config });
    this.#history = new History(options.historySize, options.historyBytes ?? 0);
  }

  // --- reading --------------------------------------------------------------

  get config(): RoomConfig {
    return this.#config;
  }

  /** Nick → occupant. */
  get occupants(): ReadonlyMap<string, Occupant> {
    return this.#occupants;
  }

  /** Real full JID of each session → its occupant. */
  get sessions(): ReadonlyMap<string, Occupant> {
    return this.#sessions;
  }

  get isEmpty(): boolean {
    return this.#occupants.size === 0;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * The affiliation of a real bare JID. §9.2: a ban of a domain JID bans
   * every user of that domain, unless the user has an affiliation of its own
   * (only outcast is inherited from a domain, as Prosody does).
   */
  affiliationOf(bare: string): Affiliation {
    const own = this.#affiliations.get(bare)?.affiliation;
    if (own !== undefined || this.#domainBans === 0) return own ?? "none";
    const at = bare.indexOf("@");
    return at !== -1 && this.#affiliations.get(bare.slice(at + 1))?.affiliation === "outcast" ? "outcast" : "none";
  }

  /** Every affiliation other than none. */
  get affiliations(): ReadonlyMap<string, AffiliationEntry> {
    return this.#affiliations;
  }

  /** The nick `bare` registered (§7.10), if any. */
  registrationOf(bare: string): string | undefined {
    return this.#registrations.get(bare);
  }

  /** The bare JID that registered `nick`, if any. */
  registrantOf(nick: string): string | undefined {
    return this.#registrants.get(nick);
  }

  get registrations(): ReadonlyMap<string, string> {
    return this.#registrations;
  }

  get subject(): Subject | undefined {
    return this.#subject;
  }

  /** The §7.2.15 discussion history (read it with `select`). */
  get history(): Pick<History, "select" | "size" | "maxBytes" | "length" | "bytes"> {
    return this.#history;
  }

  // --- occupants ------------------------------------------------------------

  /** A new nick enters (§7.2): the occupant is in the roster when the change is emitted. */
  enter(
    entry: { nick: string; bare: string; session: string; payload: readonly Node[]; role: Exclude<Role, "none">; created: boolean; nickModified: boolean },
    turn: Turn,
  ): Occupant {
    if (this.#occupants.has(entry.nick)) throw new TypeError(`nick: '${entry.nick}' is taken`);
    const occupant = new OccupantState(
      this,
      this.jid,
      entry.nick,
      entry.bare,
      this.#options.occupantId(entry.bare),
      entry.role,
      entry.session,
      entry.payload,
      turn.now,
    );
    this.#occupants.set(occupant.nick, occupant);
    this.#sessions.set(entry.session, occupant);
    this.#emit({ kind: "occupant-joined", occupant, session: entry.session, created: entry.created, nickModified: entry.nickModified }, turn);
    return occupant;
  }

  /** Another session sits down in a nick already present (multi-session). */
  addSession(occupant: Occupant, session: string, payload: readonly Node[], nickModified: boolean, turn: Turn): void {
    const state = this.#own(occupant);
    state.sessions.add(session);
    state.payload = payload;
    this.#sessions.set(session, state);
    this.#emit({ kind: "session-joined", occupant: state, session, nickModified }, turn);
  }

  /** §7.7: a session sent new presence; the occupant shows it. */
  updatePresence(occupant: Occupant, session: string, payload: readonly Node[], turn: Turn): void {
    const state = this.#own(occupant);
    state.sessions.add(session);
    state.payload = payload;
    this.#sessions.set(session, state);
    this.#emit({ kind: "presence-changed", occupant: state, session }, turn);
  }

  /** §7.6: the occupant, every session of it, takes another nick. */
  rename(occupant: Occupant, nick: string, session: string, payload: readonly Node[], nickModified: boolean, turn: Turn): void {
    const state = this.#own(occupant);
    if (this.#occupants.has(nick)) throw new TypeError(`nick: '${nick}' is taken`);
    const previousNick = state.nick;
    this.#occupants.delete(previousNick);
    state.rename(nick);
    state.payload = payload;
    state.sessions.add(session);
    this.#sessions.set(session, state);
    this.#occupants.set(nick, state);
    this.#emit({ kind: "nick-changed", occupant: state, previousNick, session, nickModified }, turn);
  }

  /**
   * One session leaves (its own unavailable presence, or an error its server
   * bounced). The occupant stays while it has other sessions.
   */
  leave(occupant: Occupant, session: string, how: { cause: "leave" | "error"; payload: readonly Node[] }, turn: Turn): void {
    const state = this.#own(occupant);
    if (state.sessions.size > 1) {
      state.sessions.delete(session);
      this.#sessions.delete(session);
      this.#emit({ kind: "session-left", occupant: state, session, cause: how.cause, payload: how.payload }, turn);
      return;
    }
    this.#removeOccupant(state);
    this.#emit({ kind: "occupant-left", occupant: state, cause: how.cause, payload: how.payload }, turn);
  }

  /** The occupant is removed with every session (§8.2 kick, §15.7.2 shutdown). */
  remove(occupant: Occupant, how: { cause: Exclude<LeaveCause, "leave" | "error" | "destroy">; reason?: string | undefined; actor?: string | undefined }, turn: Turn): void {
    const state = this.#own(occupant);
    this.#removeOccupant(state);
    this.#emit({ kind: "occupant-left", occupant: state, cause: how.cause, payload: [], reason: how.reason, actor: how.actor }, turn);
  }

  setRole(occupant: Occupant, role: Exclude<Role, "none">, how: { reason?: string | undefined; actor?: string | undefined }, turn: Turn): void {
    const state = this.#own(occupant);
    const previous = state.role;
    if (previous === role) return;
    state.role = role;
    this.#emit({ kind: "role-changed", occupant: state, previous, reason: how.reason, actor: how.actor }, turn);
  }

  // --- the room's lists -----------------------------------------------------

  /**
   * Record `jid`'s affiliation (a bare JID or a domain). `roles`: new roles of
   * occupants of that JID that come with it (§9.3, §10.3: an admin or owner
   * becomes a moderator), shown in the same presence as the affiliation.
   */
  setAffiliation(
    jid: string,
    affiliation: Affiliation,
    how: { reason?: string | undefined; actor?: string | undefined; roles?: ReadonlyMap<Occupant, Exclude<Role, "none">> },
    turn: Turn,
  ): void {
    const previous = this.#affiliations.get(jid)?.affiliation ?? "none";
    const reason = how.reason || undefined;
    const roles = [...(how.roles ?? [])].map(([occupant, role]) => [this.#own(occupant), role] as const);
    const roleChanged = roles.filter(([state, role]) => state.role !== role).map(([state]) => state as Occupant);
    if (previous === affiliation && this.#affiliations.get(jid)?.reason === reason && roleChanged.length === 0) return;
    if (previous === "outcast" && !jid.includes("@")) this.#domainBans--;
    if (affiliation === "none") this.#affiliations.delete(jid);
    else this.#affiliations.set(jid, { affiliation, reason });
    if (affiliation === "outcast" && !jid.includes("@")) this.#domainBans++;
    for (const [state, role] of roles) state.role = role;
    this.#emit({ kind: "affiliation-changed", jid, affiliation, previous, reason, actor: how.actor, roleChanged }, turn);
  }

  /** §7.10: reserve `nick` for `jid`, or drop its registration (`undefined`). */
  setRegistration(jid: string, nick: string | undefined, turn: Turn): void {
    const previous = this.#registrations.get(jid);
    if (previous === nick) return;
    if (previous !== undefined) this.#registrants.delete(previous);
    if (nick === undefined) {
      this.#registrations.delete(jid);
    } else {
      const holder = this.#registrants.get(nick);
      if (holder !== undefined && holder !== jid) throw new TypeError(`nick: '${nick}' is registered by another JID`);
      this.#registrations.set(jid, nick);
      this.#registrants.set(nick, jid);
    }
    this.#emit({ kind: "registration-changed", jid, nick, previous }, turn);
  }

  configure(config: RoomConfig, turn: Turn): void {
    const previous = this.#config;
    this.#config = Object.freeze({ ...config });
    this.#emit({ kind: "config-changed", config: this.#config, previous }, turn);
  }

  setSubject(subject: Subject, turn: Turn): void {
    this.#subject = subject;
    this.#emit({ kind: "subject-changed", subject }, turn);
  }

  /**
   * §7.4: relay a groupchat message (already built: from the occupant JID,
   * without `to`). A message with a body joins the §7.2.15 history, stamped
   * with XEP-0203 delay.
   */
  say(occupant: Occupant, message: Element, turn: Turn): void {
    this.#own(occupant);
    if (this.#history.size > 0 && message.getChild("body") !== undefined) this.#history.push(historyEntry(this.jid, message, turn.now));
    this.#emit({ kind: "message", occupant, message, stamp: turn.now }, turn);
  }

  /**
   * XEP-0424/0425: retract an archived message (`original`, as the archive
   * has it, by its stanza-id). The join history forgets it.
   */
  retract(retraction: { id: string; original: Element; moderator?: { jid: string; occupantId: string } | undefined; reason?: string | undefined }, turn: Turn): void {
    const { id } = retraction;
    this.#history.drop((entry) =>
      entry.message.children.some((c) => typeof c !== "string" && c.name === "stanza-id" && c.attrs.xmlns === NS.SID && c.attrs.by === this.jid && c.attrs.id === id),
    );
    this.#emit({ kind: "message-retracted", ...retraction, stamp: turn.now }, turn);
  }

  /** §10.9: everyone is out, and the room is no more. */
  destroy(how: { reason?: string | undefined; alternate?: string | undefined }, turn: Turn): void {
    const occupants = [...this.#occupants.values()];
    for (const state of occupants) this.#removeOccupant(state);
    this.#destroyed = true;
    this.#emit({ kind: "destroyed", occupants, reason: how.reason, alternate: how.alternate }, turn);
  }

  /** Announce that this room was just created by `creator` (a real bare JID). */
  created(creator: string, turn: Turn): void {
    this.#emit({ kind: "created", creator }, turn);
  }

  /**
   * Install what storage kept of the room, before anyone uses it (the room
   * loader). Emits nothing: these are not changes, the room was like this.
   */
  restore(state: RestoredState): void {
    if (!this.isEmpty || this.#affiliations.size > 0 || this.#registrations.size > 0) throw new TypeError("restore: the room is in use");
    for (const [jid, entry] of state.affiliations) {
      this.#affiliations.set(jid, entry);
      if (entry.affiliation === "outcast" && !jid.includes("@")) this.#domainBans++;
    }
    for (const [jid, nick] of state.registrations) {
      this.#registrations.set(jid, nick);
      this.#registrants.set(nick, jid);
    }
    this.#subject = state.subject;
    for (const entry of state.history) this.#history.push(entry);
    for (const o of state.occupants) {
      if (o.sessions.length === 0 || this.#occupants.has(o.nick)) continue;
      const occupant = new OccupantState(this, this.jid, o.nick, o.bare, this.#options.occupantId(o.bare), o.role, o.sessions[0]!, o.payload, o.joinedAt);
      for (const session of o.sessions) {
        if (this.#sessions.has(session)) continue;
        occupant.sessions.add(session);
        this.#sessions.set(session, occupant);
      }
      this.#occupants.set(o.nick, occupant);
    }
  }

  // --- private --------------------------------------------------------------

  #own(occupant: Occupant): OccupantState {
    const state = this.#occupants.get(occupant.nick);
    if (state !== occupant) throw new TypeError(`occupant: '${occupant.nick}' is not in ${this.jid}`);
    return state;
  }

  #removeOccupant(state: OccupantState): void {
    state.role = "none";
    if (this.#occupants.get(state.nick) === state) this.#occupants.delete(state.nick);
    for (const session of state.sessions) {
      if (this.#sessions.get(session) === state) this.#sessions.delete(session);
    }
  }

  #emit(change: RoomChange, turn: Turn): void {
    this.#options.emit(this, change, turn);
  }
}
