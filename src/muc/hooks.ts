import type { Element, Node } from "@xmpp/xml";
import type { StanzaError } from "../errors.ts";
import type { Jid } from "../jid.ts";
import type { Metrics } from "../metrics.ts";
import type { ServiceSecret } from "./secret.ts";
import type { Affiliation, Occupant, Role } from "./occupant.ts";
import type { Room } from "./room.ts";
import type { RoomChange } from "./room-change.ts";
import type { RoomConfig } from "./room-config.ts";
import type { MaybePromise, StorageReads } from "./storage.ts";
import type { Turn } from "./turn.ts";
import type { UserRoomsView } from "./user-rooms.ts";

/**
 * The feature hook table. A room feature (src/muc/features/, one file each)
 * is a `Feature`: a value naming the hook points it takes part in. The
 * service compiles every feature into one `Hooks` table at start; the core's
 * use cases (join.ts, the message and IQ dispatchers, the configuration
 * form, discovery) run the hooks at their points, in priority order —
 * higher first, as Prosody's module events do — and otherwise know nothing
 * of the features. docs/architecture.md walks through adding one.
 */

/** Service-wide limits and policies the features apply (from the configuration). */
export interface ServiceSettings {
  /** Most messages of §7.2.15 history a room may keep (`max_history_messages`). */
  readonly maxHistoryLength: number;
  /** Every room is archived, whatever its owner says (`muc_log_all_rooms`). */
  readonly archiveAllRooms: boolean;
  /** Most messages one archive query returns (`max_archive_query_results`). */
  readonly maxArchiveQueryResults: number;
  /** Most occupants a room may be configured to hold, 0 for no cap (`muc_max_occupants`). */
  readonly maxOccupants: number;
  /** Bytes of §7.2.15 history a room keeps and sends a newcomer, 0 for no bound (`max_history_bytes`). */
  readonly maxHistoryBytes: number;
  /** Rooms one user may be an occupant of at once, 0 for no limit (ejabberd's `max_user_conferences`). */
  readonly maxUserConferences: number;
  /** Who may create rooms by joining them (Prosody's `restrict_room_creation`): anyone, service admins only, or also users of the parent domain. */
  readonly restrictRoomCreation: boolean | "local";
  /** Service admins' bare JIDs, normalised (Prosody's `admins`): exempt from the limits above and from `maxusers`. */
  readonly admins: ReadonlySet<string>;
}

/** What the use cases and features may use of the service (MucService implements it). */
export interface MucCore {
  readonly settings: ServiceSettings;
  /** A new unique id (XEP-0359 stanza-ids). */
  newId(): string;
  /** The service's domain, e.g. `rooms.example.org`. */
  readonly domain: string;
  readonly hooks: Hooks;
  readonly secret: ServiceSecret;
  readonly metrics: Metrics | undefined;
  /** Rooms in memory, by bare JID. */
  readonly rooms: ReadonlyMap<string, Room>;
  /** Which rooms each user is in, across the service (kept from the room changes). */
  readonly userRooms: UserRoomsView;
  /** A new room, created by a join of `creator` (§10.1). */
  createRoom(jid: Jid, creator: Jid, turn: Turn): Room;
  /** §10.9: everyone leaves with the `<destroy/>` notice, and the room is gone. */
  destroyRoom(room: Room, how: { reason?: string | undefined; alternate?: string | undefined }, turn: Turn): void;
}

/** A join about to happen (§7.2), for the checks that may refuse it. */
export interface JoinAttempt {
  readonly core: MucCore;
  /** `undefined` when this join would create the room. */
  readonly room: Room | undefined;
  readonly from: Jid;
  /** The nick as the service will use it (RFC 8266 enforced). */
  readonly nick: string;
  readonly stanza: Element;
  readonly affiliation: Affiliation;
}

export interface PreJoinCheck {
  readonly priority: number;
  /** A refusal for the user, or undefined to let the join go on. */
  check(attempt: JoinAttempt): StanzaError | undefined;
  /**
   * Run before the HTTP join gate is asked, and before the nick checks: the
   * check reads only the room and the user's own standing and refuses for
   * sure (§9.1 outcasts, members-only for users without affiliation, room
   * creation restricted, rooms per user), and its refusal tells a user the
   * gate would deny nothing it could not learn anyway; so a join it refuses
   * costs no HTTP request (MucService.entryRequest) and learns nothing of
   * who is in the room. It runs again when a join the gate allowed applies.
   * docs/join-checks.md.
   */
  readonly beforeGate?: boolean;
}

/** A private message from an occupant to another (§7.5), before it is relayed. */
export interface PrivateMessageFilter {
  readonly priority: number;
  /** Throw a StanzaError to refuse it. */
  check(context: { readonly core: MucCore; readonly room: Room; readonly occupant: Occupant; readonly recipient: Occupant; readonly stanza: Element }): void;
}

/** Whether `bare` may hold `nick` in `room` (joins, nick changes, registrations). */
export interface NickCheck {
  readonly priority: number;
  check(room: Room, nick: string, bare: string): StanzaError | undefined;
}

export interface DefaultRole {
  readonly priority: number;
  /** The role a newcomer with this affiliation gets, or undefined to let a later hook decide. */
  role(room: Room, bare: string, affiliation: Affiliation): Exclude<Role, "none"> | undefined;
}

/** What a newcomer's session gets after its own presence (§7.2.15 history, §7.2.16 subject). */
export interface JoinedHook {
  readonly priority: number;
  send(context: JoinedContext): void;
}

export interface JoinedContext {
  readonly core: MucCore;
  readonly room: Room;
  readonly occupant: Occupant;
  /** The session that joined: what this hook sends goes to it only. */
  readonly session: string;
  readonly stanza: Element;
  readonly turn: Turn;
}

/** A room was just created by a join (§10.1). */
export interface CreatedHook {
  readonly priority: number;
  created(context: { readonly core: MucCore; readonly room: Room; readonly creator: Jid; readonly turn: Turn }): void;
}

/**
 * The last occupant left: destroy the room (§10.1.3 muc_temporary), evict it
 * from memory (a persistent room: it stays in storage and is loaded again on
 * its next stanza), or keep it in memory.
 */
export interface EmptiedHook {
  readonly priority: number;
  /** A decision, or undefined to let a later hook decide. Without a decision the room is kept. */
  emptied(room: Room): "keep" | "evict" | "destroy" | undefined;
}

/** A field of the §6.4 muc#roominfo form in a room's disco#info. */
export interface InfoField {
  readonly var: string;
  readonly value: string;
  readonly type?: string;
}

/** Who asks a room's disco#info: someone in the room or not (what happens inside is for occupants). */
export type Asker = "occupant" | "outsider";

export interface DiscoHooks {
  /** `<feature var>`s of the service (XEP-0045 §6.1). */
  readonly serviceFeatures?: readonly string[];
  /** `<feature var>`s of a room (§6.4). */
  roomFeatures?(room: Room, core: MucCore): readonly string[];
  /** muc#roominfo fields (§6.4, XEP-0128). */
  roomInfo?(room: Room, asker: Asker, core: MucCore): readonly InfoField[];
}

export interface ConfigOption {
  readonly value: string;
  readonly label: string;
}

/** A field of the §10.2 configuration form, and how a submitted value applies. */
export interface ConfigField {
  readonly var: string;
  readonly type: "boolean" | "text-single" | "text-private" | "text-multi" | "list-single" | "list-multi" | "jid-multi";
  readonly label: string;
  /** The choices of a list field, fixed or depending on the service's settings. */
  readonly options?: readonly ConfigOption[] | ((core: MucCore) => readonly ConfigOption[]);
  /** The current value(s), for the form sent to the owner. */
  value(room: Room, core: MucCore): string | readonly string[];
  /**
   * Read the submitted values into `draft`. Throw a StanzaError (not-acceptable
   * naming the field) to refuse the whole form: nothing is applied then.
   */
  submit(values: readonly string[], draft: ConfigDraft, room: Room, core: MucCore): void;
  /**
   * What the field changes besides the configuration (affiliations: §10.2
   * roomadmins, roomowners), once every field accepted the form and the new
   * configuration is in place. `submit` refuses what apply cannot do.
   */
  apply?(values: readonly string[], room: Room, core: MucCore, turn: Turn): void;
  /** Other names clients submit this field under (another server's), read the same way; never offered. */
  readonly aliases?: readonly string[];
  /** Whether the form offers the field at all (default: always). */
  offered?(core: MucCore): boolean;
}

/** The next configuration being assembled from a submitted form. */
export type ConfigDraft = { -readonly [K in keyof RoomConfig]: RoomConfig[K] };

/** An IQ a feature answers, by (addressee, type, namespace, element). */
export interface IqRoute {
  /** The service's domain, a room, or an occupant JID (`room/nick`). */
  readonly to: "service" | "room" | "occupant";
  readonly type: "get" | "set";
  readonly xmlns: string;
  readonly name: string;
  readonly priority?: number;
  /**
   * Answer with the result's payload (undefined: an empty result), or
   * `NEXT` to let a later route (or the default) have it. Throw a
   * StanzaError to refuse.
   */
  handle(context: IqContext): Element | undefined | typeof NEXT | typeof FORWARDED | Deferred<any>;
  /**
   * When this IQ would put the user in the room under a nick (a §7.10
   * registration), that nick: the join gate is asked about it first.
   */
  entryNick?(iq: Element, payload: Element): string | undefined;
}

export interface IqContext {
  readonly core: MucCore;
  readonly iq: Element;
  /** The IQ's only child. */
  readonly payload: Element;
  readonly from: Jid;
  readonly to: Jid;
  /** The addressed room; undefined for the service. */
  readonly room: Room | undefined;
  /** The sender's occupant in that room, if its session is in it. */
  readonly occupant: Occupant | undefined;
  readonly turn: Turn;
}

/**
 * An answer that needs to read storage first (an archive query, the room
 * listing): the core stays synchronous, so it describes the read and how to
 * answer from what comes back; the router runs it (src/xmpp/stanza-router.ts).
 */
export interface Deferred<T = unknown> {
  readonly deferred: true;
  read(storage: StorageReads): MaybePromise<T>;
  /** The result's payload from what was read; what goes before the result (e.g. archived messages) goes to `turn.out`. Throw a StanzaError to refuse. */
  answer(result: T, turn: Turn): Element | undefined;
}


export function deferred<T>(read: (storage: StorageReads) => MaybePromise<T>, answer: (result: T, turn: Turn) => Element | undefined): Deferred<T> {
  return { deferred: true, read, answer };
}

/** The route passes: a later one (or the default) answers. */
export const NEXT: unique symbol = Symbol("next");
/** The IQ went on to an occupant; the room sends no answer itself. */
export const FORWARDED: unique symbol = Symbol("forwarded");

/** A groupchat message from an occupant on its way into the room (§7.4). */
export interface GroupchatFilter {
  readonly priority: number;
  /**
   * Refuse it (throw a StanzaError), take it over (return "handled": e.g. a
   * §8.1 subject change), or let it through, adding to `payload`.
   */
  filter(context: GroupchatContext): "handled" | undefined;
}

export interface GroupchatContext {
  readonly core: MucCore;
  readonly room: Room;
  readonly occupant: Occupant;
  readonly stanza: Element;
  /** The children the room will relay; filters may add to it. */
  readonly payload: Node[];
  /** Elements the room adds to the relayed message, whoever builds it (a filter that takes over includes them): the XEP-0359 stanza-id. */
  readonly marks: Element[];
  readonly turn: Turn;
}

/** A message to the room's bare JID that is not groupchat (§7.8 invitations, §7.13 voice requests). */
export interface RoomMessageHook {
  readonly priority: number;
  /** Handle it and return true, or return false to let a later hook try. */
  handle(context: RoomMessageContext): boolean;
}

export interface RoomMessageContext {
  readonly core: MucCore;
  readonly room: Room;
  readonly occupant: Occupant | undefined;
  readonly stanza: Element;
  readonly from: Jid;
  readonly turn: Turn;
}

export interface Feature extends DiscoHooks {
  /** For logs and docs: what XEP section or behaviour this is. */
  readonly name: string;
  readonly preJoin?: readonly PreJoinCheck[];
  readonly privateMessage?: readonly PrivateMessageFilter[];
  readonly nickCheck?: readonly NickCheck[];
  readonly defaultRole?: readonly DefaultRole[];
  readonly joined?: readonly JoinedHook[];
  readonly created?: readonly CreatedHook[];
  readonly emptied?: readonly EmptiedHook[];
  readonly config?: readonly ConfigField[];
  readonly iq?: readonly IqRoute[];
  readonly groupchat?: readonly GroupchatFilter[];
  readonly roomMessage?: readonly RoomMessageHook[];
  /**
   * Elements the room adds to everything an occupant sends or shows — its
   * presence, groupchat and private messages (XEP-0421 occupant id). Called
   * when a stanza is built; return shared, frozen elements.
   */
  occupantMarks?(occupant: Occupant): readonly Element[];
  /**
   * Every room change, after the broadcaster turned it into stanzas — but an
   * `affiliation-changed` before, so that a feature removing the occupant
   * over it (321) leaves the room showing only the removal. Must not throw.
   */
  changed?(room: Room, change: RoomChange, turn: Turn): void;
}

function byPriority<T extends { readonly priority?: number | undefined }>(items: T[]): readonly T[] {
  // Array#sort is stable: equal priorities keep the features' order.
  return Object.freeze(items.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0)));
}

/** Every feature's hooks, merged and sorted once. */
export class Hooks {
  readonly features: readonly Feature[];
  readonly preJoin: readonly PreJoinCheck[];
  /** The preJoin checks that run before the join gate (`beforeGate`), best first. */
  readonly beforeGate: readonly PreJoinCheck[];
  readonly privateMessage: readonly PrivateMessageFilter[];
  readonly nickCheck: readonly NickCheck[];
  readonly defaultRole: readonly DefaultRole[];
  readonly joined: readonly JoinedHook[];
  readonly created: readonly CreatedHook[];
  readonly emptied: readonly EmptiedHook[];
  readonly config: readonly ConfigField[];
  readonly groupchat: readonly GroupchatFilter[];
  readonly roomMessage: readonly RoomMessageHook[];
  readonly serviceFeatures: readonly string[];
  readonly #iq = new Map<string, readonly IqRoute[]>();
  /** (to, xmlns, name) → the types routed, to tell bad-request from service-unavailable. */
  readonly #iqTypes = new Map<string, Set<string>>();
  readonly #marks: readonly NonNullable<Feature["occupantMarks"]>[];
  readonly #changed: readonly NonNullable<Feature["changed"]>[];

  constructor(features: readonly Feature[]) {
    const names = new Set<string>();
    for (const f of features) {
      if (names.has(f.name)) throw new TypeError(`features: '${f.name}' is listed twice`);
      names.add(f.name);
    }
    this.features = Object.freeze([...features]);
    const all = <K extends keyof Feature>(key: K) => features.flatMap((f) => (f[key] ?? []) as NonNullable<Feature[K]> & unknown[]);
    this.preJoin = byPriority(all("preJoin") as PreJoinCheck[]);
    this.beforeGate = Object.freeze(this.preJoin.filter((c) => c.beforeGate === true));
    this.privateMessage = byPriority(all("privateMessage") as PrivateMessageFilter[]);
    this.nickCheck = byPriority(all("nickCheck") as NickCheck[]);
    this.defaultRole = byPriority(all("defaultRole") as DefaultRole[]);
    this.joined = byPriority(all("joined") as JoinedHook[]);
    this.created = byPriority(all("created") as CreatedHook[]);
    this.emptied = byPriority(all("emptied") as EmptiedHook[]);
    this.groupchat = byPriority(all("groupchat") as GroupchatFilter[]);
    this.roomMessage = byPriority(all("roomMessage") as RoomMessageHook[]);
    this.config = Object.freeze(all("config") as ConfigField[]);
    const vars = new Set<string>();
    for (const field of this.config) {
      if (vars.has(field.var)) throw new TypeError(`features: config field '${field.var}' is offered twice`);
      vars.add(field.var);
    }
    this.serviceFeatures = Object.freeze([...new Set(all("serviceFeatures") as string[])]);
    const routes = new Map<string, IqRoute[]>();
    for (const route of all("iq") as IqRoute[]) {
      const key = iqKey(route.to, route.type, route.xmlns, route.name);
      routes.set(key, [...(routes.get(key) ?? []), route]);
      const typesKey = iqKey(route.to, "", route.xmlns, route.name);
      this.#iqTypes.set(typesKey, (this.#iqTypes.get(typesKey) ?? new Set()).add(route.type));
    }
    for (const [key, list] of routes) this.#iq.set(key, byPriority(list));
    this.#marks = features.flatMap((f) => (f.occupantMarks ? [f.occupantMarks.bind(f)] : []));
    this.#changed = features.flatMap((f) => (f.changed ? [f.changed.bind(f)] : []));
  }

  /** The routes for an IQ, best first; empty when none. */
  iqRoutes(to: IqRoute["to"], type: string, xmlns: string | undefined, name: string): readonly IqRoute[] {
    return this.#iq.get(iqKey(to, type, xmlns ?? "", name)) ?? [];
  }

  /** Whether some feature answers this element with another IQ type (bad-request rather than service-unavailable). */
  routesOtherType(to: IqRoute["to"], xmlns: string | undefined, name: string): boolean {
    return this.#iqTypes.has(iqKey(to, "", xmlns ?? "", name));
  }

  roomFeatures(room: Room, core: MucCore): string[] {
    const vars: string[] = [];
    for (const f of this.features) if (f.roomFeatures) vars.push(...f.roomFeatures(room, core));
    return vars;
  }

  roomInfo(room: Room, asker: Asker, core: MucCore): InfoField[] {
    const fields: InfoField[] = [];
    for (const f of this.features) if (f.roomInfo) fields.push(...f.roomInfo(room, asker, core));
    return fields;
  }

  occupantMarks(occupant: Occupant): Element[] {
    const marks: Element[] = [];
    for (const mark of this.#marks) marks.push(...mark(occupant));
    return marks;
  }

  changed(room: Room, change: RoomChange, turn: Turn): void {
    for (const hook of this.#changed) hook(room, change, turn);
  }
}

function iqKey(to: string, type: string, xmlns: string, name: string): string {
  return `${to} ${type} ${xmlns} ${name}`;
}
