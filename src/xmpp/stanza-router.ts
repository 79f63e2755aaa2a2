import type { Element } from "@xmpp/xml";
import type { Decision, JoinAuthorizer } from "../auth/types.ts";
import { addressesOf } from "../muc/addresses.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { selfUnavailable } from "../muc/presence.ts";
import type { EntryRequest, MucService } from "../muc/service.ts";
import { errorReply, refuse } from "../muc/stanza-error.ts";
import { StanzaError } from "../errors.ts";
import type { RoomLoader } from "../room-loader.ts";
import type { StorageReads } from "../muc/storage.ts";
import type { Later } from "../muc/turn.ts";
import { serialize } from "./serialize.ts";
import type { EventRate } from "./event-rate.ts";
import type { StanzaLimits } from "./stanza-limits.ts";

export interface StanzaRouterOptions {
  service: MucService;
  /** Brings stored rooms into memory on first use; without one, rooms live only in memory. */
  rooms?: RoomLoader | undefined;
  /** Where answers that read storage (archive queries, room listings) read it. */
  storage?: StorageReads | undefined;
  /** The join gate; without one every entry is admitted. */
  authorizer?: JoinAuthorizer | undefined;
  /** muc_http_auth_authorize_registration: XEP-0045 §7.10 registrations pass the gate too. */
  authorizeRegistration?: boolean;
  /** Most stanzas, and their bytes, one session may have waiting behind its pending entry to a room; more is refused (resource-constraint). */
  maxHeld?: { readonly stanzas: number; readonly bytes: number } | undefined;
  /** `muc_event_rate`: messages and presences per occupant session and room; over it, wait/policy-violation. */
  eventRate?: EventRate | undefined;
  /** What an incoming stanza may carry; over it, refused before anything waits or runs. */
  limits?: StanzaLimits | undefined;
  send: (stanzas: Element[]) => void;
  /**
   * Where work that resumes later runs (a stanza once its room is loaded, an
   * entry once the gate decided, an answer once storage read): the
   * component link's queue, behind what the server sent, so that it is held
   * back like a stanza when the server is behind. Default: at once.
   */
  defer?: (task: () => void) => void;
  logger: Logger;
  metrics?: Metrics | undefined;
}

/** An entry waiting for the gate, and what its sender sent to that room meanwhile. */
interface Hold {
  readonly request: EntryRequest;
  readonly stanza: Element;
  readonly queue: Queued[];
  /** Bytes of what is in `queue`. */
  bytes: number;
}

/**
 * A stanza waiting behind an entry. `beforeJoin` is fixed when it arrives
 * (a join was pending, so its sender was not yet an occupant) and travels
 * with it if it moves on to wait behind a later entry.
 */
interface Queued {
  readonly stanza: Element;
  readonly beforeJoin: boolean;
  readonly bytes: number;
}

/**
 * Between the component connection and the MUC core, the one place that
 * waits, so the core never does: for a room to be read from storage, and for
 * the HTTP gate to decide on an entry. Nothing waits longer than it must,
 * and nothing a user sends to a room overtakes what it sent before.
 *
 * A stanza to a room that is being loaded waits, with everything else sent
 * to that room meanwhile, until the room is in memory; they then go on in
 * arrival order. If storage fails, they are refused (wait/internal-server-
 * error): the room may exist, so it must not be created afresh.
 *
 * A user's entry into a room (join, nick change, registration) is held while
 * the gate decides.
 *
 * The hold is per (real full JID, room): other sessions, other rooms and
 * other users flow on untouched. While held:
 * - stanzas from the same session to the same room queue behind the entry,
 *   and are handled in order once it is decided;
 * - messages and IQs queued behind a join are answered as from someone not
 *   in the room (they were sent before the user was an occupant): a message
 *   gets not-acceptable, never an early delivery;
 * - an unavailable presence is never queued: it cancels a pending entry at
 *   once. After a pending join, the user gets its unavailable self-presence
 *   and the room never sees it (and should a stanza queued behind that join
 *   have been admitted meanwhile by a cached answer, the unavailable takes
 *   it out of the room as an ordinary leave); after a pending nick change or
 *   registration, the occupant leaves as usual, under its old nick;
 * - what waits is bounded per session (`maxHeld`, count and bytes): beyond
 *   it a stanza is refused with wait/resource-constraint, so a hanging gate
 *   cannot make one user's backlog grow without bound (issue 13);
 * - the nick is checked again when the decision lands (the core does), so a
 *   nick taken meanwhile gives `conflict`, not two occupants.
 * Cached decisions come back synchronously and skip all of this.
 */
export class StanzaRouter {
  readonly #o: StanzaRouterOptions;
  readonly #holds = new Map<string, Hold>();
  /** Room bare JID → what arrived for it while it loads. */
  readonly #loads = new Map<string, Element[]>();
  #closed = false;

  readonly #defer: (task: () => void) => void;

  constructor(options: StanzaRouterOptions) {
    this.#o = options;
    this.#defer = options.defer ?? ((task) => task());
  }

  /** Entries waiting for the gate. */
  get pending(): number {
    return this.#holds.size;
  }

  /**
   * Refuse new entries from now on (shutdown); everything else still flows.
   * Entries still waiting for the gate are refused now, not when their answer
   * comes: by then the stream is closed and the refusal could not be sent.
   */
  close(): void {
    this.#closed = true;
    for (const [key, hold] of [...this.#holds]) {
      this.#holds.delete(key);
      this.#send([shuttingDown(hold.stanza)]);
      this.#drain(key, hold.queue);
    }
  }

  route(stanza: Element): void {
    const refusal = this.#o.limits?.check(stanza);
    if (refusal) {
      // To its sender only; an error is never answered (RFC 6120 §8.3.1).
      if (stanza.attrs.type !== "error" && stanza.attrs.from) this.#send([errorReply(stanza, refusal, stanza.attrs.to ?? this.#o.service.domain)]);
      return;
    }
    if (this.#overactive(stanza)) {
      this.#send([errorReply(stanza, OVERACTIVE, stanza.attrs.to!)]);
      return;
    }
    this.#enter(stanza);
  }

  /**
   * mod_muc_limits: an occupant's messages and presences to its room over
   * the rate. A leave is never limited (it must always work), nor an error,
   * nor what non-occupants send (joins are bounded by the gate's budget).
   */
  #overactive(stanza: Element): boolean {
    const rate = this.#o.eventRate;
    if (!rate || (stanza.name !== "message" && stanza.name !== "presence")) return false;
    const type = stanza.attrs.type;
    if (type === "error" || type === "unavailable") return false;
    const key = holdKey(stanza);
    if (key === undefined || !this.#inRoom(stanza)) return false;
    return !rate.take(key);
  }

  /** `route` after the limits: also where stanzas held behind a room load come back in. */
  #enter(stanza: Element): void {
    const room = roomOf(stanza);
    if (room !== undefined && !this.#roomReady(room, stanza)) return;
    const key = holdKey(stanza);
    const hold = key === undefined ? undefined : this.#holds.get(key);
    if (hold) {
      if (isUnavailable(stanza)) this.#cancel(key!, hold, stanza);
      else this.#hold(hold, stanza);
      return;
    }
    this.#process(stanza, key, false);
  }

  /** Queue `stanza` behind `hold`, or refuse it when the session's backlog is full. */
  #hold(hold: Hold, stanza: Element): void {
    const bytes = Buffer.byteLength(serialize(stanza));
    const max = this.#o.maxHeld;
    if (max && (hold.queue.length >= max.stanzas || hold.bytes + bytes > max.bytes)) {
      this.#o.logger.debug({ from: stanza.attrs.from, to: stanza.attrs.to, held: hold.queue.length, bytes: hold.bytes }, "held stanzas over the limit: refused");
      if (stanza.attrs.type !== "error") this.#send([errorReply(stanza, HELD_TOO_MUCH, stanza.attrs.to!)]);
      return;
    }
    hold.queue.push({ stanza, beforeJoin: hold.request.kind === "join", bytes });
    hold.bytes += bytes;
  }

  /** Whether `stanza` may go on now; if not, it waits for its room (or was refused). */
  #roomReady(room: string, stanza: Element): boolean {
    const waiting = this.#loads.get(room);
    if (waiting) {
      waiting.push(stanza);
      return false;
    }
    const ready = this.#o.rooms?.prepare(room) ?? true;
    if (ready === true) return true;
    if (ready === false) {
      this.#send(storageFailed([stanza]));
      return false;
    }
    this.#loads.set(room, [stanza]);
    void ready.then((ok) => {
      const queue = this.#loads.get(room) ?? [];
      this.#loads.delete(room);
      if (!ok) {
        this.#send(storageFailed(queue));
        return;
      }
      for (const queued of queue) {
        this.#defer(() => {
          try {
            this.#enter(queued);
          } catch (err) {
            this.#o.logger.error({ err }, "bug: stanza queued behind a room load threw");
          }
        });
      }
    });
    return false;
  }

  #process(stanza: Element, key: string | undefined, sentBeforeJoin: boolean): void {
    const { service, authorizer } = this.#o;
    const request = key === undefined ? undefined : service.entryRequest(stanza);
    if (request && this.#closed) {
      this.#send([shuttingDown(stanza)]);
      return;
    }
    if (!request || !authorizer || !this.#gated(request, authorizer)) {
      const out: Element[] = [];
      this.#later(stanza, service.handle(stanza, out, { asNonOccupant: sentBeforeJoin && stanza.name !== "presence" }), out);
      this.#send(out);
      return;
    }
    const decision = authorizer.decide(request.question);
    if (!(decision instanceof Promise)) {
      this.#apply(stanza, request, decision);
      return;
    }
    const hold: Hold = { request, stanza, queue: [], bytes: 0 };
    this.#holds.set(key!, hold);
    decision.then(
      (d) => this.#defer(() => this.#settle(key!, hold, d)),
      (err: unknown) => {
        // The gate never rejects; if it did, fail closed.
        this.#o.logger.error({ err: String(err) }, "bug: join gate rejected");
        this.#defer(() => this.#settle(key!, hold, { allowed: false, failure: true, reason: "gate error", source: "fetch" }));
      },
    );
  }

  #gated(request: EntryRequest, authorizer: JoinAuthorizer): boolean {
    if (request.kind === "registration" && !this.#o.authorizeRegistration) return false;
    return authorizer.mustAuthorize(request.roomNode, request.userHost);
  }

  #settle(key: string, hold: Hold, decision: Decision): void {
    if (this.#holds.get(key) !== hold) return; // cancelled meanwhile
    // The room may have left memory while the gate decided: it must be back before the entry applies.
    const ready = this.#o.rooms?.prepare(roomOf(hold.stanza)!) ?? true;
    if (ready instanceof Promise) {
      void ready.then((ok) => this.#defer(() => this.#settle(key, hold, ok ? decision : STORAGE_FAILED)));
      return;
    }
    if (ready === false) decision = STORAGE_FAILED;
    this.#holds.delete(key);
    try {
      this.#apply(hold.stanza, hold.request, decision);
    } catch (err) {
      this.#o.logger.error({ err }, "bug: applying a join decision threw");
    }
    this.#drain(key, hold.queue);
  }

  /** Handle what queued behind an entry, in order; a new hold takes the rest. */
  #drain(key: string, queue: Queued[]): void {
    for (let i = 0; i < queue.length; i++) {
      const next = this.#holds.get(key);
      if (next) {
        // Already accepted once: they move on whole, over the limit or not.
        for (const queued of queue.slice(i)) {
          next.queue.push(queued);
          next.bytes += queued.bytes;
        }
        return;
      }
      try {
        this.#process(queue[i]!.stanza, key, queue[i]!.beforeJoin);
      } catch (err) {
        this.#o.logger.error({ err }, "bug: queued stanza threw");
      }
    }
  }

  #apply(stanza: Element, request: EntryRequest, decision: Decision): void {
    const out: Element[] = [];
    if (decision.allowed && this.#closed) {
      // Decided after close(): the service has shut down (every occupant got
      // 332), so admitting the user now would leave it in a room nobody serves.
      out.push(shuttingDown(stanza));
    } else if (decision.allowed) {
      // The answer's affiliation and role concern a join only (README "Join authorization").
      const standing = request.kind === "join" ? decision.standing : undefined;
      this.#later(stanza, this.#o.service.handle(stanza, out, { standing }), out);
    } else if (decision === STORAGE_FAILED) {
      out.push(...storageFailed([stanza]));
    } else if (decision.limited) {
      this.#o.logger.info({ user: request.question.userJID, room: request.question.mucJID, kind: request.kind }, `${request.kind} refused: too many gate questions this minute`);
      if (request.kind === "join") this.#o.metrics?.joins.denied.inc();
      out.push(errorReply(stanza, TOO_MANY_QUESTIONS, stanza.attrs.to!));
    } else {
      const { question } = request;
      this.#o.logger.info(
        { user: question.userJID, room: question.mucJID, nick: question.nickname, kind: request.kind, reason: decision.reason, failure: decision.failure, source: decision.source },
        `${request.kind} denied`,
      );
      if (request.kind === "join") this.#o.metrics?.joins.denied.inc();
      this.#o.service.deny(stanza, out);
    }
    this.#send(out);
  }

  /** XEP-0045 §7.14 leave before the entry was decided: the entry never happens. */
  #cancel(key: string, hold: Hold, leave: Element): void {
    this.#holds.delete(key);
    if (hold.request.kind === "join") this.#o.metrics?.joins.cancelled.inc();
    // An IQ is always answered (RFC 6120 §8.2.3), a registration too.
    else if (hold.stanza.name === "iq") this.#send([errorReply(hold.stanza, refuse.notAcceptable("Cancelled: you left the room"), hold.stanza.attrs.to!)]);
    this.#drain(key, hold.queue);
    // Something queued started another join: the leave cancels that one too.
    if (this.#holds.has(key)) this.#enter(leave);
    // A nick change or registration: the leave is what it would have been without it.
    // A join, but something queued was admitted at once (a cached answer): the leave is a real leave now.
    else if (hold.request.kind !== "join" || this.#inRoom(leave)) this.#process(leave, key, false);
    else this.#send([selfUnavailable(hold.stanza.attrs.to!, leave.attrs.from!)]);
  }

  /** Whether the sender of `stanza` is an occupant of the room it is addressed to. */
  #inRoom(stanza: Element): boolean {
    const { from, to } = addressesOf(stanza);
    if (!from || !to) return false;
    return this.#o.service.room(to.bare)?.sessions.has(from.full) ?? false;
  }

  /**
   * The rest of an answer that reads storage (an archive query): appended to
   * `out` when storage answers at once, sent on its own when it answers
   * later. Other stanzas are not held meanwhile; a failed read is answered
   * wait/internal-server-error.
   */
  #later(stanza: Element, later: Later | undefined, out: Element[]): void {
    if (!later) return;
    const failed = (err: unknown): Element[] => {
      this.#o.logger.error({ err }, "storage read for an answer failed");
      return storageFailed([stanza]);
    };
    let done: Element[] | Promise<Element[]>;
    try {
      done = this.#o.storage ? later.run(this.#o.storage) : failed(new Error("no storage"));
    } catch (err) {
      done = failed(err);
    }
    if (done instanceof Promise) {
      void done.then(
        (stanzas) => this.#defer(() => this.#send(stanzas)),
        (err: unknown) => this.#defer(() => this.#send(failed(err))),
      );
    }
    else out.push(...done);
  }

  #send(out: Element[]): void {
    if (out.length > 0) this.#o.send(out);
  }
}

/** Prosody mod_muc_limits' refusal, in its words. */
const OVERACTIVE = new StanzaError("wait", "policy-violation", "The room is currently overactive, please try again later");

/** More gate questions this minute than one user may ask (muc_http_auth_max_requests_per_user). */
const TOO_MANY_QUESTIONS = new StanzaError("wait", "resource-constraint", "Too many joins and nick changes; try again in a minute");

/** More waiting behind a pending entry than one session may have. */
const HELD_TOO_MUCH = new StanzaError("wait", "resource-constraint", "Too much sent while your entry is pending; try again");

/** An entry whose room could not be read: refused as if the gate had failed (fail closed). */
const STORAGE_FAILED: Decision = { allowed: false, failure: true, reason: "room storage failed", source: "fetch" };

/** Refusals for stanzas whose room storage could not read; errors are never answered (RFC 6120 §8.3.1). */
function storageFailed(stanzas: readonly Element[]): Element[] {
  const error = new StanzaError("wait", "internal-server-error", "The room could not be loaded; try again later");
  return stanzas.filter((s) => s.attrs.type !== "error").map((s) => errorReply(s, error, s.attrs.to!));
}

/** The bare JID of the room a stanza is addressed to; undefined for the service itself. */
function roomOf(stanza: Element): string | undefined {
  const { to } = addressesOf(stanza);
  return to && to.local ? to.bare : undefined;
}

/** The refusal of an entry once shutdown has begun. */
function shuttingDown(stanza: Element): Element {
  return errorReply(stanza, refuse.serviceUnavailable("The service is shutting down"), stanza.attrs.to!);
}

function isUnavailable(stanza: Element): boolean {
  return stanza.name === "presence" && stanza.attrs.type === "unavailable";
}

/** (real full JID, room bare JID); undefined for stanzas not addressed to a room. */
function holdKey(stanza: Element): string | undefined {
  const from = stanza.attrs.from;
  const room = roomOf(stanza);
  if (!from || room === undefined) return undefined;
  return `${from}\n${room}`;
}
