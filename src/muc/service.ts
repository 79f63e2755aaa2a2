import type { Element } from "@xmpp/xml";
import type { AuthQuestion } from "../auth/types.ts";
import { StanzaError } from "../errors.ts";
import { parseJid } from "../jid.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { addressesOf } from "./addresses.ts";
import type { Incoming, MucContext } from "./context.ts";
import { handleIq } from "./iq-handler.ts";
import { kickOccupant, type KickOptions } from "./kick.ts";
import { handleMessage } from "./message-handler.ts";
import { prepareNick } from "./nick.ts";
import type { Occupant } from "./occupant.ts";
import { handlePresence } from "./presence-handler.ts";
import { requestedRegistrationNick } from "./registration.ts";
import { Room } from "./room.ts";
import { ServiceSecret } from "./secret.ts";
import { errorReply, refuse } from "./stanza-error.ts";

export interface MucServiceOptions {
  /** The component's domain, e.g. `rooms.example.org`. */
  domain: string;
  /** Messages of history kept per room (XEP-0045 §7.2.15). */
  historySize?: number;
  /** ms since the epoch. */
  now?: () => number;
  /** Key for occupant ids and IQ routing tags; random per process when absent. */
  secret?: string;
  metrics?: Metrics;
  logger?: Logger;
}

/** Something that would put a user in a room under a nick: the question for the join gate. */
export interface EntryRequest {
  readonly kind: "join" | "nick-change" | "registration";
  readonly roomNode: string;
  readonly userHost: string;
  readonly question: AuthQuestion;
}

/**
 * The XEP-0045 service: all rooms, and one entry point that takes a stanza
 * and appends the stanzas to send to `out`. Synchronous and free of I/O, so
 * it runs in memory in tests exactly as in production; the join gate sits in
 * front of it (src/xmpp), never inside.
 *
 * Refusals are thrown as StanzaError by the handlers and become error
 * replies here, in one place; anything else thrown is a bug, logged and
 * answered with internal-server-error so one bad stanza never stops the room.
 */
export class MucService implements MucContext {
  readonly domain: string;
  readonly rooms = new Map<string, Room>();
  readonly now: () => number;
  readonly secret: ServiceSecret;
  readonly historySize: number;
  readonly metrics: Metrics | undefined;
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
    this.metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Handle one stanza from the XMPP server; what to send goes to `out`. */
  handle(stanza: Element, out: Element[], options: { asNonOccupant?: boolean } = {}): void {
    const inc = this.#incoming(stanza, out);
    if (!inc) return;
    const incoming = options.asNonOccupant && inc.occupant ? { ...inc, occupant: undefined } : inc;
    const mark = out.length;
    try {
      switch (stanza.name) {
        case "presence":
          handlePresence(this, incoming, out);
          break;
        case "message":
          handleMessage(this, incoming, out);
          break;
        case "iq":
          handleIq(this, incoming, out);
          break;
      }
    } catch (err) {
      out.length = mark; // nothing half-done goes out
      this.#refuse(stanza, err, out);
    }
  }

  /**
   * If `stanza` asks to put a user into a room under a nick — a join, a nick
   * change (XEP-0045 §7.6) or a registration (§7.10) — the question for the
   * gate. `undefined` for everything else, and for nicks the service refuses
   * whatever the gate says (malformed): they need no HTTP round trip.
   *
   * A nick already taken is deliberately NOT settled here: answering
   * `conflict` before the gate would let a user the gate denies probe who
   * is in the room, and DESIGN.md promises a denied user learns nothing of
   * it. The conflict is found when the decision is applied. Changes nothing.
   */
  entryRequest(stanza: Element): EntryRequest | undefined {
    if (stanza.attrs.type !== undefined && !(stanza.name === "iq" && stanza.attrs.type === "set")) return undefined;
    if (stanza.name !== "presence" && stanza.name !== "iq") return undefined;
    const { from, to } = addressesOf(stanza);
    if (!from || !to || !to.local || to.domain !== this.domain) return undefined;
    const room = this.rooms.get(to.bare);
    const ask = (kind: EntryRequest["kind"], nickname: string): EntryRequest => ({
      kind,
      roomNode: to.local,
      userHost: from.domain,
      question: { userJID: from.bare, mucJID: to.bare, nickname },
    });
    if (stanza.name === "iq") {
      if (to.resource || !room) return undefined;
      const requested = requestedRegistrationNick(stanza);
      if (requested === undefined) return undefined;
      const prepared = prepareNick(requested);
      return "nick" in prepared ? ask("registration", prepared.nick) : undefined;
    }
    if (!to.resource) return undefined;
    const prepared = prepareNick(to.resource);
    if (!("nick" in prepared)) return undefined;
    const occupant = room?.sessions.get(from.full);
    if (!occupant) return ask("join", prepared.nick);
    if (prepared.nick === occupant.nick) return undefined; // a presence update (§7.7)
    return ask("nick-change", prepared.nick);
  }

  /** Refuse an entry the gate denied: XEP-0045 §7.2.6-style error to the user only, nothing to the room. */
  deny(stanza: Element, out: Element[]): void {
    out.push(errorReply(stanza, refuse.notAuthorized(), stanza.attrs.to ?? this.domain));
  }

  /** A room by its bare JID (any case). */
  room(jid: string): Room | undefined {
    const parsed = parseJid(jid);
    return parsed && !parsed.resource ? this.rooms.get(parsed.bare) : undefined;
  }

  /** Remove occupants from a room, XEP-0045 §8.2 (the HTTP and shutdown kicks). */
  kick(room: Room, occupants: readonly Occupant[], options: KickOptions, out: Element[]): void {
    for (const occupant of occupants) {
      if (room.occupants.get(occupant.nick) !== occupant) continue;
      kickOccupant(this, room, occupant, options, out);
    }
  }

  /** Every occupant leaves with status 332, XEP-0045 §15.7.2 ("system shutdown"). */
  shutdown(out: Element[]): void {
    for (const room of [...this.rooms.values()]) {
      this.kick(room, [...room.occupants.values()], { status: "332" }, out);
    }
  }

  /** Occupants (nicks) in all rooms; O(rooms), for metrics scrapes. */
  get occupantCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.occupants.size;
    return n;
  }

  createRoom(jid: string, node: string): Room {
    const room = new Room(jid, node, this.historySize);
    this.rooms.set(jid, room);
    return room;
  }

  destroyIfEmpty(room: Room): void {
    if (room.isEmpty && this.rooms.get(room.jid) === room) this.rooms.delete(room.jid);
  }

  #incoming(stanza: Element, out: Element[]): Incoming | undefined {
    if (stanza.name !== "presence" && stanza.name !== "message" && stanza.name !== "iq") return undefined;
    const { from, to } = addressesOf(stanza);
    // Nobody to answer: a stanza without a usable sender is dropped.
    if (!from) {
      this.#logger?.debug({ stanza: stanza.name, from: stanza.attrs.from }, "dropped stanza without a valid sender");
      return undefined;
    }
    if (!to || to.domain !== this.domain) {
      this.#refuse(stanza, refuse.jidMalformed("Invalid destination address"), out);
      return undefined;
    }
    const room = to.local ? this.rooms.get(to.bare) : undefined;
    return { stanza, from, to, room, occupant: room?.sessions.get(from.full) };
  }

  #refuse(stanza: Element, err: unknown, out: Element[]): void {
    // RFC 6120 §8.3.1: never answer an error with an error.
    if (stanza.attrs.type === "error") return;
    let error: StanzaError;
    if (err instanceof StanzaError) {
      error = err;
    } else {
      this.#logger?.error({ err, stanza: stanza.toString() }, "bug: stanza handler threw");
      error = new StanzaError("wait", "internal-server-error");
    }
    // Answer from the address asked when it is ours; never from another
    // domain: the XMPP server closes a component's stream (invalid-from) that
    // sends from a domain it does not own (Prosody's validate_from_addresses).
    const { to } = addressesOf(stanza);
    out.push(errorReply(stanza, error, to && to.domain === this.domain ? stanza.attrs.to! : this.domain));
  }
}
