import { randomUUID } from "node:crypto";
import type { Element } from "@xmpp/xml";
import { StanzaError } from "../errors.ts";
import { parseJid, type Jid } from "../jid.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { addressesOf } from "./addresses.ts";
import { Broadcaster } from "./broadcaster.ts";
import { type MucCore, Hooks, type Feature, type ServiceSettings } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { FEATURES } from "./features/index.ts";
import { kickOccupants, type KickOptions } from "./features/kick.ts";
import { handleIq } from "./iq-handler.ts";
import { beforeGateRefusal } from "./join.ts";
import { withConfigNotice } from "./config-notice.ts";
import { loggable } from "./loggable.ts";
import { handleMessage } from "./message-handler.ts";
import { prepareNick } from "./nick.ts";
import { directInvitation } from "./direct-invitation.ts";
import { changeAffiliation } from "./change-affiliation.ts";
import type { Affiliation, Occupant } from "./occupant.ts";
import { handlePresence } from "./presence-handler.ts";
import { Room } from "./room.ts";
import type { RoomChange } from "./room-change.ts";
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "./room-config.ts";
import { restoredState, storedConfig } from "./room-record.ts";
import type { ArchivedMessage, StoredRoom } from "./storage.ts";
import { ServiceSecret } from "./secret.ts";
import { sessionProbe } from "./session-probe.ts";
import type { Standing } from "./standing.ts";
import { errorReply, refuse } from "./stanza-error.ts";
import { soleChild } from "./stanza.ts";
import { Turn, type Later } from "./turn.ts";
import { UserRooms, type UserRoomsView } from "./user-rooms.ts";

export interface MucServiceOptions {
  /** The component's domain, e.g. `rooms.example.org`. */
  domain: string;
  /** Messages of history kept per room (XEP-0045 §7.2.15). */
  historySize?: number;
  /** ms since the epoch. */
  now?: () => number;
  /** Key for occupant ids and IQ routing tags; random per process when absent. */
  secret?: string;
  /** The room features; the standard set (features/index.ts) when absent. */
  features?: readonly Feature[];
  /** A new room's configuration. */
  roomDefaults?: RoomConfig;
  /** Service-wide limits and policies; defaults for those left out. */
  settings?: Partial<ServiceSettings>;
  /** New unique ids (XEP-0359 stanza-ids); random UUIDs by default. */
  newId?: () => string;
  metrics?: Metrics;
  logger?: Logger;
}

/** What the join gate is asked about an entry: the same three values as mod_muc_http_auth's query. */
export interface EntryQuestion {
  /** Bare JID of the user, normalised. */
  readonly userJID: string;
  /** Bare JID of the room, normalised. */
  readonly mucJID: string;
  /** The nick as the service would use it. */
  readonly nickname: string;
}

/** Something that would put a user in a room under a nick: the question for the join gate. */
export interface EntryRequest {
  readonly kind: "join" | "nick-change" | "registration";
  readonly roomNode: string;
  readonly userHost: string;
  readonly question: EntryQuestion;
}

/** Who a kick over HTTP names: a nick, or every occupant of an account. */
export type KickTarget = { readonly nick: string } | { readonly account: string };

export type KickOutcome = { readonly kicked: readonly string[] } | { readonly refused: "no-room" | "nobody" };

/** Something that wants to hear of every room change (the store, metrics, events). */
export type ChangeListener = (room: Room, change: RoomChange, turn: Turn) => void;

/**
 * The XEP-0045 service: the rooms in memory, one entry point that takes a
 * stanza and appends the stanzas to send to `out`, and the commands other
 * parts (HTTP, shutdown) call. Synchronous and free of I/O, so it runs in
 * memory in tests exactly as in production; the join gate and room loading
 * sit in front of it (src/xmpp), never inside.
 *
 * Rooms change only through their own methods (room.ts); each change goes to
 * the broadcaster (stanzas), the features' `changed` hooks, then the
 * listeners (`subscribe`), in that order. Refusals are thrown as StanzaError
 * by the handlers and become error replies here, in one place; anything
 * else thrown is a bug, logged and answered with internal-server-error so
 * one bad stanza never stops the room.
 */
export class MucService implements MucCore {
  readonly domain: string;
  readonly hooks: Hooks;
  readonly now: () => number;
  readonly secret: ServiceSecret;
  readonly historySize: number;
  readonly metrics: Metrics | undefined;
  readonly settings: ServiceSettings;
  readonly newId: () => string;
  readonly #rooms = new Map<string, Room>();
  readonly #userRooms = new UserRooms();
  readonly #broadcaster: Broadcaster;
  readonly #listeners: ChangeListener[] = [];
  readonly #roomDefaults: RoomConfig;
  readonly #logger: Logger | undefined;

  constructor(options: MucServiceOptions) {
    const domain = parseJid(options.domain);
    if (!domain || domain.local || domain.resource) throw new TypeError(`domain: '${options.domain}' is not a domain`);
    const historySize = options.historySize ?? 20;
    if (!Number.isInteger(historySize) || historySize < 0) throw new TypeError("historySize: must be an integer >= 0");
    this.domain = domain.domain;
    this.historySize = historySize;
    this.now = options.now ?? Date.now;
    this.secret = new ServiceSecret(options.secret);
    this.hooks = new Hooks(options.features ?? FEATURES);
    this.#broadcaster = new Broadcaster(this.hooks);
    this.#roomDefaults = Object.freeze({ ...DEFAULT_ROOM_CONFIG, ...options.roomDefaults });
    // Without settings the core limits nothing the operator's configuration would (src/config.ts has the operator's defaults).
    this.settings = Object.freeze({
      maxHistoryLength: historySize,
      archiveAllRooms: false,
      maxArchiveQueryResults: 50,
      maxOccupants: 0,
      maxHistoryBytes: 0,
      maxUserConferences: 0,
      restrictRoomCreation: false,
      admins: new Set<string>(),
      ...options.settings,
    });
    this.newId = options.newId ?? (() => randomUUID());
    this.metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Rooms in memory, by normalised bare JID. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** Which rooms each user is in (a user's rooms in memory, counted for `max_user_conferences`). */
  get userRooms(): UserRoomsView {
    return this.#userRooms;
  }

  /** A room by its bare JID (any case). */
  room(jid: string): Room | undefined {
    const parsed = parseJid(jid);
    return parsed && !parsed.resource ? this.#rooms.get(parsed.bare) : undefined;
  }

  /** Occupants (nicks) in all rooms; O(rooms), for metrics scrapes. */
  get occupantCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.occupants.size;
    return n;
  }

  /** Hear of every room change from now on; returns the unsubscribe. A listener that throws is logged, never propagated. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i !== -1) this.#listeners.splice(i, 1);
    };
  }

  // --- stanzas ----------------------------------------------------------------

  /**
   * Handle one stanza from the XMPP server; what to send goes to `out`. An
   * answer that must read storage first is returned, for the caller to run
   * once the turn is over (hooks.ts `Deferred`).
   */
  handle(stanza: Element, out: Element[], options: { asNonOccupant?: boolean; standing?: Standing | undefined } = {}): Later | undefined {
    const turn = new Turn(this.now(), out);
    const inc = this.#incoming(stanza, turn);
    if (!inc) return undefined;
    let incoming: Incoming = options.asNonOccupant && inc.occupant ? { ...inc, occupant: undefined } : inc;
    if (options.standing) incoming = { ...incoming, standing: options.standing };
    const mark = out.length;
    try {
      switch (stanza.name) {
        case "presence":
          handlePresence(this, incoming, turn);
          break;
        case "message":
          handleMessage(this, incoming, turn);
          break;
        case "iq":
          handleIq(this, incoming, turn);
          break;
      }
    } catch (err) {
      out.length = mark; // nothing half-done goes out
      this.#refuse(stanza, err, out);
      return undefined;
    }
    return turn.later;
  }

  /**
   * If `stanza` asks to put a user into a room under a nick — a join, a nick
   * change (XEP-0045 §7.6) or a registration (§7.10) — the question for the
   * gate. `undefined` for everything else, and for nicks the service refuses
   * whatever the gate says (malformed): they need no HTTP round trip.
   *
   * A nick already taken is deliberately NOT settled here: answering
   * `conflict` before the gate would let a user the gate denies probe who
   * is in the room, and a denied user must learn nothing of it (README
   * "Join authorization"). The conflict is found when the decision is
   * applied. Changes nothing.
   */
  entryRequest(stanza: Element): EntryRequest | undefined {
    if (stanza.attrs.type !== undefined && !(stanza.name === "iq" && stanza.attrs.type === "set")) return undefined;
    if (stanza.name !== "presence" && stanza.name !== "iq") return undefined;
    const { from, to } = addressesOf(stanza);
    if (!from || !to || !to.local || to.domain !== this.domain) return undefined;
    const room = this.#rooms.get(to.bare);
    const ask = (kind: EntryRequest["kind"], nickname: string): EntryRequest => ({
      kind,
      roomNode: to.local,
      userHost: from.domain,
      question: { userJID: from.bare, mucJID: to.bare, nickname },
    });
    if (stanza.name === "iq") {
      if (to.resource || !room) return undefined;
      const payload = soleChild(stanza);
      if (!payload) return undefined;
      for (const route of this.hooks.iqRoutes("room", "set", payload.attrs.xmlns, payload.name)) {
        const requested = route.entryNick?.(stanza, payload);
        if (requested === undefined) continue;
        const prepared = prepareNick(requested);
        return "nick" in prepared ? ask("registration", prepared.nick) : undefined;
      }
      return undefined;
    }
    if (!to.resource) return undefined;
    const prepared = prepareNick(to.resource);
    if (!("nick" in prepared)) return undefined;
    const occupant = room?.sessions.get(from.full);
    if (!occupant) {
      // A join the room refuses for sure (§9.1 a ban) needs no HTTP request: handle() refuses it.
      const attempt = { core: this, room, from, nick: prepared.nick, stanza, affiliation: room?.affiliationOf(from.bare) ?? "none" } as const;
      if (beforeGateRefusal(this, attempt)) return undefined;
      return ask("join", prepared.nick);
    }
    if (prepared.nick === occupant.nick) return undefined; // a presence update (§7.7)
    return ask("nick-change", prepared.nick);
  }

  /** Refuse an entry the gate denied: XEP-0045 §7.2.6-style error to the user only, nothing to the room. */
  deny(stanza: Element, out: Element[]): void {
    out.push(errorReply(stanza, refuse.notAuthorized(), stanza.attrs.to ?? this.domain));
  }

  // --- commands ---------------------------------------------------------------

  /** Remove occupants from a room, XEP-0045 §8.2 (the HTTP and shutdown kicks). */
  kick(room: Room, occupants: readonly Occupant[], options: KickOptions, out: Element[]): void {
    kickOccupants(this, room, occupants, options, new Turn(this.now(), out));
  }

  /** Kick by nick, or every occupant of an account (POST /muc_kick), with status 307. */
  kickFrom(roomJid: string, target: KickTarget, reason: string | undefined, out: Element[]): KickOutcome {
    const room = this.room(roomJid);
    if (!room) return { refused: "no-room" };
    let occupants: Occupant[];
    if ("nick" in target) {
      const prepared = prepareNick(target.nick);
      const occupant = "nick" in prepared ? room.occupants.get(prepared.nick) : undefined;
      occupants = occupant ? [occupant] : [];
    } else {
      occupants = [...room.occupants.values()].filter((o) => o.bare === target.account);
    }
    if (occupants.length === 0) return { refused: "nobody" };
    this.kick(room, occupants, { reason, cause: "kick" }, out);
    return { kicked: occupants.map((o) => o.nick) };
  }

  /**
   * A room made by the operator, not by a join (the HTTP room API's
   * create_room): it has no owner until one is named, and the configuration
   * `configure` makes of the defaults (it may throw: then nothing happens).
   * `undefined` when the room is already in memory.
   */
  openRoom(roomJid: string, out: Element[], configure: (defaults: RoomConfig) => RoomConfig = (d) => d): Room | undefined {
    const jid = this.#roomJid(roomJid);
    if (this.#rooms.has(jid.bare)) return undefined;
    const config = Object.freeze({ ...configure(this.#roomDefaults) });
    const turn = new Turn(this.now(), out);
    const room = this.#newRoom(jid.bare, jid.local, turn.now, config);
    this.#rooms.set(room.jid, room);
    room.created(this.domain, turn);
    return room;
  }

  /** §10.9 destroy by the operator: every occupant gets the destroy presence. `false` when the room is not in memory. */
  destroy(roomJid: string, how: { reason?: string | undefined; alternate?: string | undefined }, out: Element[]): boolean {
    const room = this.room(roomJid);
    if (!room) return false;
    this.destroyRoom(room, how, new Turn(this.now(), out));
    return true;
  }

  /** Replace a room's configuration (as a §10.2 form would); occupants get 104 when it changed. `false`: no such room. */
  configure(roomJid: string, config: RoomConfig, out: Element[]): boolean {
    const room = this.room(roomJid);
    if (!room) return false;
    const turn = new Turn(this.now(), out);
    withConfigNotice(this, room, turn, () => room.configure(config, turn));
    return true;
  }

  /**
   * §9 by the operator: set `jid`'s affiliation (a bare JID, normalised), as
   * muc#admin does (change-affiliation.ts): the new role rides in the same
   * presence, an outcast is removed with 301 (§9.1). `false` when the room is
   * not in memory.
   */
  setAffiliation(roomJid: string, jid: string, affiliation: Affiliation, reason: string | undefined, out: Element[]): boolean {
    const room = this.room(roomJid);
    if (!room) return false;
    changeAffiliation(this, room, jid, affiliation, { reason }, new Turn(this.now(), out));
    return true;
  }

  /**
   * XEP-0249 direct invitations from the room to each bare JID not already
   * an occupant (ejabberd's send_direct_invitation). `false`: no such room.
   */
  inviteDirectly(roomJid: string, users: readonly string[], how: { password?: string | undefined; reason?: string | undefined }, out: Element[]): boolean {
    const room = this.room(roomJid);
    if (!room) return false;
    const inRoom = new Set([...room.occupants.values()].map((o) => o.bare));
    for (const user of new Set(users)) if (!inRoom.has(user)) out.push(directInvitation(room.jid, user, how));
    return true;
  }

  /** Who is in a room, a row per session (ejabberd's get_room_occupants); undefined when it is not in memory. */
  roster(roomJid: string): readonly { readonly session: string; readonly nick: string; readonly role: string; readonly affiliation: string }[] | undefined {
    const room = this.#rooms.get(roomJid);
    if (!room) return undefined;
    return [...room.sessions].map(([session, o]) => ({ session, nick: o.nick, role: o.role, affiliation: o.affiliation }));
  }

  /** The rooms in memory a user (bare JID) is in, in the order it entered them. */
  roomsOf(bare: string): string[] {
    return this.#userRooms.rooms(bare);
  }

  /** Every session of every occupant in memory, as (room, session) pairs. */
  *sessions(): Iterable<readonly [string, string]> {
    for (const room of this.#rooms.values()) for (const session of room.sessions.keys()) yield [room.jid, session];
  }

  /** A check that `session` is still there (session-probe.ts); undefined when it is no longer in `room`. */
  probe(roomJid: string, session: string): Element | undefined {
    const room = this.#rooms.get(roomJid);
    return room ? sessionProbe(room, session) : undefined;
  }

  /** Every occupant leaves with status 332, XEP-0045 §15.7.2 ("system shutdown"). */
  shutdown(out: Element[]): void {
    for (const room of [...this.#rooms.values()]) {
      this.kick(room, [...room.occupants.values()], { cause: "shutdown" }, out);
    }
  }

  createRoom(jid: Jid, creator: Jid, turn: Turn): Room {
    const room = this.#newRoom(jid.bare, jid.local, turn.now);
    this.#rooms.set(room.jid, room);
    room.created(creator.bare, turn);
    // §10.1.1: the creator is the room's owner.
    room.setAffiliation(creator.bare, "owner", {}, turn);
    for (const hook of this.hooks.created) hook.created({ core: this, room, creator, turn });
    return room;
  }

  /**
   * Bring a stored room into memory (the room loader, after reading it from
   * storage). Nothing is sent: to everyone outside, the room never left.
   */
  restore(stored: StoredRoom, history: readonly ArchivedMessage[] = []): Room {
    const { record } = stored;
    const jid = parseJid(record.jid);
    if (!jid || !jid.local || jid.resource || jid.domain !== this.domain || jid.bare !== record.jid) {
      throw new TypeError(`stored: '${record.jid}' is not a room JID of ${this.domain}`);
    }
    const existing = this.#rooms.get(jid.bare);
    if (existing) return existing;
    const room = this.#newRoom(jid.bare, jid.local, record.createdAt, storedConfig(stored, this.#roomDefaults));
    room.restore(restoredState(stored, history));
    this.#rooms.set(room.jid, room);
    this.#userRooms.restored(room);
    return room;
  }

  destroyRoom(room: Room, how: { reason?: string | undefined; alternate?: string | undefined }, turn: Turn): void {
    if (this.#rooms.get(room.jid) !== room) return;
    room.destroy(how, turn);
  }

  // --- private ----------------------------------------------------------------

  #roomJid(text: string): Jid {
    const jid = parseJid(text);
    if (!jid || !jid.local || jid.resource || jid.domain !== this.domain) throw new TypeError(`roomJid: '${text}' is not a room JID of ${this.domain}`);
    return jid;
  }

  #newRoom(jid: string, node: string, createdAt: number, config: RoomConfig = this.#roomDefaults): Room {
    return new Room({
      jid,
      node,
      config,
      historySize: this.historySize,
      historyBytes: this.settings.maxHistoryBytes,
      createdAt,
      occupantId: (bare) => this.secret.occupantId(jid, bare),
      emit: (room, change, turn) => this.#changed(room, change, turn),
    });
  }

  #changed(room: Room, change: RoomChange, turn: Turn): void {
    // First, so that whatever reacts to the change (a feature's next join check included) counts it.
    this.#userRooms.apply(room, change);
    if (change.kind === "affiliation-changed") {
      // Features may answer an affiliation change by removing the occupant (§9.4 321 in a
      // members-only room): then the room shows only that removal, not the new affiliation first.
      this.hooks.changed(room, change, turn);
      this.#broadcaster.apply(room, change, turn);
    } else {
      this.#broadcaster.apply(room, change, turn);
      this.hooks.changed(room, change, turn);
    }
    for (const listener of this.#listeners) {
      try {
        listener(room, change, turn);
      } catch (err) {
        this.#logger?.error({ err, room: room.jid, change: change.kind }, "bug: room change listener threw");
      }
    }
    if (change.kind === "destroyed") {
      if (this.#rooms.get(room.jid) === room) this.#rooms.delete(room.jid);
    } else if (change.kind === "occupant-left" && room.isEmpty) {
      this.#emptied(room, turn);
    }
  }

  /** The last occupant left: the features decide whether the room goes (§10.1.3), or only leaves memory. */
  #emptied(room: Room, turn: Turn): void {
    for (const hook of this.hooks.emptied) {
      const decision = hook.emptied(room);
      if (decision === "destroy") {
        this.destroyRoom(room, {}, turn);
        return;
      }
      if (decision === "evict") {
        // Storage keeps it; the room loader brings it back on its next stanza.
        if (this.#rooms.get(room.jid) === room) this.#rooms.delete(room.jid);
        return;
      }
      if (decision === "keep") return;
    }
  }

  #incoming(stanza: Element, turn: Turn): Incoming | undefined {
    if (stanza.name !== "presence" && stanza.name !== "message" && stanza.name !== "iq") return undefined;
    const { from, to } = addressesOf(stanza);
    // Nobody to answer: a stanza without a usable sender is dropped.
    if (!from) {
      this.#logger?.debug({ stanza: stanza.name, from: stanza.attrs.from }, "dropped stanza without a valid sender");
      return undefined;
    }
    if (!to || to.domain !== this.domain) {
      this.#refuse(stanza, refuse.jidMalformed("Invalid destination address"), turn.out);
      return undefined;
    }
    const room = to.local ? this.#rooms.get(to.bare) : undefined;
    return { stanza, from, to, room, occupant: room?.sessions.get(from.full) };
  }

  #refuse(stanza: Element, err: unknown, out: Element[]): void {
    // RFC 6120 §8.3.1: never answer an error with an error.
    if (stanza.attrs.type === "error") return;
    let error: StanzaError;
    if (err instanceof StanzaError) {
      error = err;
    } else {
      this.#logger?.error({ err, stanza: loggable(stanza) }, "bug: stanza handler threw");
      error = new StanzaError("wait", "internal-server-error");
    }
    // Answer from the address asked when it is ours; never from another
    // domain: the XMPP server closes a component's stream (invalid-from) that
    // sends from a domain it does not own (Prosody's validate_from_addresses).
    const { to } = addressesOf(stanza);
    out.push(errorReply(stanza, error, to && to.domain === this.domain ? stanza.attrs.to! : this.domain));
  }
}
