/**
 * The in-memory store (`storage = "memory"`): Maps, nothing survives the
 * process; for tests. Every write applies at once, so every read sees it and
 * commit() has nothing to do. Records are copied in and out (room data
 * through JSON, as the SQL stores keep it), so a caller that changes an
 * object later changes nothing stored.
 */
import { StorageError } from "../errors.ts";
import type {
  AffiliationRecord,
  ArchiveAnswer,
  ArchivedMessage,
  ArchiveQuery,
  OccupantRecord,
  RoomListing,
  RoomRecord,
  Storage,
  StoredAffiliation,
  StoredRoom,
} from "../muc/storage.ts";
import {
  checkAffiliation,
  checkInteger,
  checkMessage,
  checkOccupant,
  checkQuery,
  checkRoomRecord,
  checkString,
  checkText,
} from "./storage-arguments.ts";

interface Archive {
  messages: ArchivedMessage[];
  /** id → index in `messages`. */
  positions: Map<string, number>;
}

/** Code point order, as SQLite's BINARY and PostgreSQL's "C" collation compare. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function copyOccupant(o: OccupantRecord): OccupantRecord {
  return { nick: o.nick, bare: o.bare, role: o.role, sessions: [...o.sessions], presence: o.presence, joinedAt: o.joinedAt };
}

function inner<V>(outer: Map<string, Map<string, V>>, room: string): Map<string, V> {
  let map = outer.get(room);
  if (map === undefined) outer.set(room, (map = new Map()));
  return map;
}

export class MemoryStorage implements Storage {
  readonly kind = "memory";
  readonly #rooms = new Map<string, RoomRecord>();
  readonly #affiliations = new Map<string, Map<string, AffiliationRecord>>();
  readonly #registrations = new Map<string, Map<string, string>>();
  readonly #occupants = new Map<string, Map<string, OccupantRecord>>();
  readonly #archives = new Map<string, Archive>();
  readonly #meta = new Map<string, string>();
  #closed = false;

  #assertOpen(): void {
    if (this.#closed) throw new StorageError("the memory storage is closed");
  }

  loadRoom(jid: string): StoredRoom | undefined {
    checkText(jid, "room jid");
    this.#assertOpen();
    const record = this.#rooms.get(jid);
    if (record === undefined) return undefined;
    const sorted = <V>(map: Map<string, V> | undefined) => [...(map ?? new Map<string, V>())].sort(([a], [b]) => byCodePoint(a, b));
    return {
      record: { ...record, data: JSON.parse(JSON.stringify(record.data)) },
      affiliations: sorted(this.#affiliations.get(jid)).map(([, a]) => ({ ...a })),
      registrations: sorted(this.#registrations.get(jid)).map(([jid, nick]) => ({ jid, nick })),
      occupants: sorted(this.#occupants.get(jid))
        .map(([, o]) => copyOccupant(o))
        .sort((a, b) => a.joinedAt - b.joinedAt || byCodePoint(a.nick, b.nick)),
    };
  }

  occupiedRooms(): readonly string[] {
    this.#assertOpen();
    return [...this.#occupants].filter(([, occupants]) => occupants.size > 0).map(([room]) => room).sort(byCodePoint);
  }

  listPublicRooms(options: { after?: string | undefined; before?: string | undefined; limit: number }): { rooms: readonly RoomListing[]; total: number } {
    if (options?.after !== undefined) checkText(options.after, "after");
    if (options?.before !== undefined) checkString(options.before, "before"); // "" is the last page
    checkInteger(options.limit, "limit", 0);
    this.#assertOpen();
    const listed = [...this.#rooms.values()].filter((r) => r.public).sort((a, b) => byCodePoint(a.jid, b.jid));
    const { after, before, limit } = options;
    const page =
      before === undefined
        ? listed.filter((r) => after === undefined || byCodePoint(r.jid, after) > 0).slice(0, limit)
        : limit === 0
          ? []
          : listed.filter((r) => before === "" || byCodePoint(r.jid, before) < 0).slice(-limit);
    const rooms = page.map((r) => ({ jid: r.jid, name: r.name }));
    return { rooms, total: listed.length };
  }

  putRoom(record: RoomRecord): void {
    checkRoomRecord(record);
    this.#assertOpen();
    const { jid, persistent, name, createdAt } = record;
    this.#rooms.set(jid, { jid, persistent, public: record.public, name, createdAt, data: JSON.parse(JSON.stringify(record.data)) });
  }

  deleteRoom(jid: string): void {
    checkText(jid, "room jid");
    this.#assertOpen();
    for (const map of [this.#rooms, this.#affiliations, this.#registrations, this.#occupants, this.#archives]) map.delete(jid);
  }

  setAffiliation(room: string, jid: string, affiliation: StoredAffiliation | undefined, reason?: string): void {
    checkText(room, "room jid");
    checkText(jid, "jid");
    checkAffiliation(affiliation, reason);
    this.#assertOpen();
    if (affiliation === undefined) this.#affiliations.get(room)?.delete(jid);
    else inner(this.#affiliations, room).set(jid, { jid, affiliation, reason });
  }

  setRegistration(room: string, jid: string, nick: string | undefined): void {
    checkText(room, "room jid");
    checkText(jid, "jid");
    if (nick !== undefined) checkText(nick, "nick");
    this.#assertOpen();
    if (nick === undefined) this.#registrations.get(room)?.delete(jid);
    else inner(this.#registrations, room).set(jid, nick);
  }

  putOccupant(room: string, record: OccupantRecord): void {
    checkText(room, "room jid");
    checkOccupant(record);
    this.#assertOpen();
    inner(this.#occupants, room).set(record.nick, copyOccupant(record));
  }

  removeOccupant(room: string, nick: string): void {
    checkText(room, "room jid");
    checkText(nick, "nick");
    this.#assertOpen();
    this.#occupants.get(room)?.delete(nick);
  }

  clearOccupants(): void {
    this.#assertOpen();
    this.#occupants.clear();
  }

  archive(room: string, message: ArchivedMessage): void {
    checkText(room, "room jid");
    checkMessage(message);
    this.#assertOpen();
    let archive = this.#archives.get(room);
    if (archive === undefined) this.#archives.set(room, (archive = { messages: [], positions: new Map() }));
    if (archive.positions.has(message.id)) throw new StorageError(`message id ${JSON.stringify(message.id)} is already in the archive of ${room}`);
    const { id, stamp, from, bare, stanza } = message;
    archive.positions.set(id, archive.messages.length);
    archive.messages.push(Object.freeze({ id, stamp, from, bare, stanza }));
  }

  getArchived(room: string, id: string): ArchivedMessage | undefined {
    checkText(room, "room jid");
    checkText(id, "id");
    this.#assertOpen();
    const archive = this.#archives.get(room);
    const at = archive?.positions.get(id);
    return at === undefined ? undefined : archive!.messages[at];
  }

  replaceArchived(room: string, id: string, stanza: string): void {
    checkText(room, "room jid");
    checkText(id, "id");
    checkString(stanza, "stanza");
    this.#assertOpen();
    const archive = this.#archives.get(room);
    const at = archive?.positions.get(id);
    if (at !== undefined) archive!.messages[at] = Object.freeze({ ...archive!.messages[at]!, stanza });
  }

  queryArchive(room: string, query: ArchiveQuery): ArchiveAnswer {
    checkText(room, "room jid");
    checkQuery(query);
    this.#assertOpen();
    const archive = this.#archives.get(room) ?? { messages: [], positions: new Map<string, number>() };
    // Each id the query names, as an index; an unknown one answers item-not-found (XEP-0313 §4.3).
    const at: (number | undefined)[] = [];
    for (const id of [query.afterId, query.beforeId, query.after, query.before === "" ? undefined : query.before]) {
      const index = id === undefined ? undefined : archive.positions.get(id);
      if (id !== undefined && index === undefined) return { found: false, unknownId: id };
      at.push(index);
    }
    const [afterId, beforeId, after, before] = at;
    const { messages } = archive;
    const ids = query.ids === undefined ? undefined : new Set(query.ids);
    const low = afterId === undefined ? 0 : afterId + 1;
    const high = beforeId === undefined ? messages.length - 1 : beforeId - 1;
    const matches = (i: number): boolean => {
      const m = messages[i]!;
      return (
        (query.start === undefined || m.stamp >= query.start) &&
        (query.end === undefined || m.stamp <= query.end) &&
        (query.with === undefined || m.from === query.with) &&
        (ids === undefined || ids.has(m.id))
      );
    };
    let count = 0;
    for (let i = low; i <= high; i++) if (matches(i)) count++;
    // RSM after/before narrow the same range (XEP-0059 §2.2, §2.5); one extra match says whether the page is the last.
    const from = Math.max(low, after === undefined ? 0 : after + 1);
    const to = Math.min(high, before === undefined ? messages.length - 1 : before - 1);
    const backwards = query.before !== undefined;
    const page: ArchivedMessage[] = [];
    for (let i = backwards ? to : from; backwards ? i >= from : i <= to; i += backwards ? -1 : 1) {
      if (!matches(i)) continue;
      if (page.length === query.max) return { found: true, messages: backwards ? page.reverse() : page, count, complete: false };
      page.push(messages[i]!);
    }
    return { found: true, messages: backwards ? page.reverse() : page, count, complete: true };
  }

  recentMessages(room: string, limit: number): readonly ArchivedMessage[] {
    checkText(room, "room jid");
    checkInteger(limit, "limit", 0);
    this.#assertOpen();
    const messages = this.#archives.get(room)?.messages ?? [];
    return limit === 0 ? [] : messages.slice(-limit);
  }

  expireArchive(before: number): number {
    checkInteger(before, "before");
    this.#assertOpen();
    let deleted = 0;
    for (const archive of this.#archives.values()) {
      const kept = archive.messages.filter((m) => m.stamp >= before);
      deleted += archive.messages.length - kept.length;
      archive.messages = kept;
      archive.positions = new Map(kept.map((m, i) => [m.id, i]));
    }
    return deleted;
  }

  getMeta(key: string): string | undefined {
    checkText(key, "key");
    this.#assertOpen();
    return this.#meta.get(key);
  }

  setMeta(key: string, value: string): void {
    checkText(key, "key");
    checkString(value, "value");
    this.#assertOpen();
    this.#meta.set(key, value);
  }

  commit(): void {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
