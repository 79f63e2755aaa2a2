/**
 * The storage port: what the MUC service keeps across restarts, as plain
 * records. The core depends on this interface only; `src/storage/` holds the
 * implementations (memory, SQLite, PostgreSQL), which all pass the same suite
 * (test/storage/). See docs/architecture.md "Storage".
 *
 * Writes are buffered: each write method records the change and returns at
 * once; `commit()` makes everything written so far durable, in order. The
 * service calls it at the end of every turn, and nothing an occupant receives
 * leaves the process before the commit that holds it has finished
 * (durability of the archive: what anyone saw survives a crash).
 *
 * Reads see every write made before them, committed or not (read your
 * writes), so a room evicted and loaded again at once loses nothing.
 *
 * Any method may answer synchronously (SQLite) or with a promise
 * (PostgreSQL): callers handle both, and never reorder because of it.
 */

export type MaybePromise<T> = T | Promise<T>;

/** XEP-0045 §5.2 affiliations that are stored; `none` is the absence of a record. */
export type StoredAffiliation = "owner" | "admin" | "member" | "outcast";

/** One room as the core saves it. The core owns `data`'s shape (and its version field). */
export interface RoomRecord {
  /** Normalised bare JID, `node@service`. */
  readonly jid: string;
  /** muc#roomconfig_persistentroom: survives its last occupant leaving. */
  readonly persistent: boolean;
  /** muc#roomconfig_publicroom: listed in the service's disco#items. */
  readonly public: boolean;
  /** muc#roomconfig_roomname, for listings; "" when unnamed. */
  readonly name: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** Configuration, subject and whatever else the core keeps for the room, JSON-serialisable. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AffiliationRecord {
  /** Real bare JID (or a domain JID: XEP-0045 §9.1 bans whole servers). */
  readonly jid: string;
  readonly affiliation: StoredAffiliation;
  readonly reason: string | undefined;
}

/** §7.10: a nick reserved by a real bare JID. */
export interface RegistrationRecord {
  readonly jid: string;
  readonly nick: string;
}

/** One occupant (nick) with its sessions, so a restart brings the room back as it was. */
export interface OccupantRecord {
  readonly nick: string;
  /** Real bare JID. */
  readonly bare: string;
  /** XEP-0045 §5.1 role of this occupancy. */
  readonly role: "moderator" | "participant" | "visitor";
  /** Real full JIDs of its sessions, oldest first; never empty. */
  readonly sessions: readonly string[];
  /** The presence payload the room shows (its children as XML text, without the MUC elements). */
  readonly presence: string;
  /** ms since the epoch of the occupant's join. */
  readonly joinedAt: number;
}

/** Everything stored for one room, as `loadRoom` returns it. */
export interface StoredRoom {
  readonly record: RoomRecord;
  readonly affiliations: readonly AffiliationRecord[];
  readonly registrations: readonly RegistrationRecord[];
  readonly occupants: readonly OccupantRecord[];
}

/** One archived stanza of a room (XEP-0313), in the order the room sent them. */
export interface ArchivedMessage {
  /** XEP-0359 stanza-id the room assigned: unique within the room, opaque. */
  readonly id: string;
  /** ms since the epoch, when the room received it. */
  readonly stamp: number;
  /** The sender's occupant JID at the time, `room@service/nick` (what MAM's `with` matches). */
  readonly from: string;
  /** The sender's real bare JID. */
  readonly bare: string;
  /** The message as broadcast (no `to`, no stanza-id, no delay), XML text; a tombstone once retracted. */
  readonly stanza: string;
}

/**
 * An archive query (XEP-0313 §4.1 filters, XEP-0059 paging). Filters combine
 * with AND. `after`/`before` are RSM ids: page forward from after `after`,
 * or the last page before `before` (`""` = the last page of all).
 */
export interface ArchiveQuery {
  /** ms, inclusive. */
  readonly start?: number | undefined;
  /** ms, inclusive. */
  readonly end?: number | undefined;
  /** An occupant JID (`room@service/nick`): only messages from it. */
  readonly with?: string | undefined;
  /** XEP-0313 #extended: only messages after (before) this id, exclusive. */
  readonly afterId?: string | undefined;
  readonly beforeId?: string | undefined;
  /** Only these ids (XEP-0313 §4.1.4 `ids`), in archive order. */
  readonly ids?: readonly string[] | undefined;
  /** Most messages to return, >= 0. */
  readonly max: number;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

export type ArchiveAnswer =
  | {
      readonly found: true;
      /** Oldest first, at most `max`. */
      readonly messages: readonly ArchivedMessage[];
      /** Messages matching the filters, ignoring paging (RSM `<count/>`). */
      readonly count: number;
      /** XEP-0313 §4.3: true when this page reaches the end of the results in its direction. */
      readonly complete: boolean;
    }
  /** An RSM or #extended id that is not in the room's archive: item-not-found (XEP-0313 §4.3). */
  | { readonly found: false; readonly unknownId: string };

/** A row of the service's room listing (XEP-0030 disco#items, paged with XEP-0059). */
export interface RoomListing {
  readonly jid: string;
  readonly name: string;
}

export interface Storage {
  /** `memory`, `sqlite` or `postgres`, for logs and metrics. */
  readonly kind: string;

  loadRoom(jid: string): MaybePromise<StoredRoom | undefined>;
  /** Rooms with at least one stored occupant (restored at start). */
  occupiedRooms(): MaybePromise<readonly string[]>;
  /**
   * Public rooms in JID order, at most `limit`: the first ones after `after`
   * (exclusive), or the last ones before `before` (exclusive; `""` for the
   * very last page), still in JID order; `total` counts them all.
   */
  listPublicRooms(options: { after?: string | undefined; before?: string | undefined; limit: number }): MaybePromise<{ rooms: readonly RoomListing[]; total: number }>;

  /** Insert or replace the room's record. */
  putRoom(record: RoomRecord): void;
  /** Forget the room and everything stored for it: affiliations, registrations, occupants, archive. */
  deleteRoom(jid: string): void;
  /** `affiliation: undefined` removes the record (back to none). */
  setAffiliation(room: string, jid: string, affiliation: StoredAffiliation | undefined, reason?: string): void;
  /** `nick: undefined` removes the registration. */
  setRegistration(room: string, jid: string, nick: string | undefined): void;
  /** Insert or replace the occupant named `record.nick`. */
  putOccupant(room: string, record: OccupantRecord): void;
  removeOccupant(room: string, nick: string): void;
  /** Drop every stored occupant of every room (when the service will not keep them over a restart). */
  clearOccupants(): void;

  /** Append to the room's archive; `message.id` must be new in the room. */
  archive(room: string, message: ArchivedMessage): void;
  /** One archived message by its stanza-id. */
  getArchived(room: string, id: string): MaybePromise<ArchivedMessage | undefined>;
  /** Replace an archived stanza (a retraction's tombstone); nothing when the id is unknown. */
  replaceArchived(room: string, id: string, stanza: string): void;
  queryArchive(room: string, query: ArchiveQuery): MaybePromise<ArchiveAnswer>;
  /** The newest `limit` messages, oldest first (join history, XEP-0045 §7.2.15). */
  recentMessages(room: string, limit: number): MaybePromise<readonly ArchivedMessage[]>;
  /** Delete archived messages older than `before` (ms) in every room; how many went. */
  expireArchive(before: number): MaybePromise<number>;

  /** Small service-wide values (e.g. the secret that keeps occupant ids stable). */
  getMeta(key: string): MaybePromise<string | undefined>;
  setMeta(key: string, value: string): void;

  /** Make every write so far durable, in order. Sync when the store can be (SQLite). */
  commit(): MaybePromise<void>;
  /** Commit, then release the connection/file. */
  close(): Promise<void>;
}

/** The reads a deferred answer may make (hooks.ts Deferred): the router gives them the storage. */
export type StorageReads = Pick<Storage, "queryArchive" | "listPublicRooms" | "getArchived" | "recentMessages">;
