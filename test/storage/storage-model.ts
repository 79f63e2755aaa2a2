/**
 * The storage port as plain data, for property tests: what every store must
 * answer after the same writes. Written as directly as possible (arrays,
 * filter, slice), so it stays obviously right and shares nothing with the
 * stores it judges.
 */
import type {
  AffiliationRecord,
  ArchiveAnswer,
  ArchivedMessage,
  ArchiveQuery,
  OccupantRecord,
  RegistrationRecord,
  RoomListing,
  RoomRecord,
  StoredAffiliation,
  StoredRoom,
} from "../../src/muc/storage.ts";

/** Code point order (SQLite BINARY, PostgreSQL "C"). */
export function codePointOrder(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A StoredRoom with its lists in one order, to compare stores that list in another. */
export function canonicalRoom(room: StoredRoom | undefined): StoredRoom | undefined {
  if (room === undefined) return undefined;
  return {
    record: room.record,
    affiliations: [...room.affiliations].sort((a, b) => codePointOrder(a.jid, b.jid)),
    registrations: [...room.registrations].sort((a, b) => codePointOrder(a.jid, b.jid)),
    occupants: [...room.occupants].sort((a, b) => codePointOrder(a.nick, b.nick)),
  };
}

export class StorageModel {
  rooms: RoomRecord[] = [];
  affiliations: (AffiliationRecord & { room: string })[] = [];
  registrations: (RegistrationRecord & { room: string })[] = [];
  occupants: (OccupantRecord & { room: string })[] = [];
  archived: (ArchivedMessage & { room: string })[] = [];
  meta: Record<string, string> = {};

  putRoom(record: RoomRecord): void {
    // data is stored as JSON text (the port: JSON-serialisable).
    const data = JSON.parse(JSON.stringify(record.data)) as RoomRecord["data"];
    this.rooms = [...this.rooms.filter((r) => r.jid !== record.jid), { ...record, data }];
  }

  deleteRoom(jid: string): void {
    this.rooms = this.rooms.filter((r) => r.jid !== jid);
    this.affiliations = this.affiliations.filter((a) => a.room !== jid);
    this.registrations = this.registrations.filter((r) => r.room !== jid);
    this.occupants = this.occupants.filter((o) => o.room !== jid);
    this.archived = this.archived.filter((m) => m.room !== jid);
  }

  setAffiliation(room: string, jid: string, affiliation: StoredAffiliation | undefined, reason?: string): void {
    this.affiliations = this.affiliations.filter((a) => a.room !== room || a.jid !== jid);
    if (affiliation !== undefined) this.affiliations.push({ room, jid, affiliation, reason });
  }

  setRegistration(room: string, jid: string, nick: string | undefined): void {
    this.registrations = this.registrations.filter((r) => r.room !== room || r.jid !== jid);
    if (nick !== undefined) this.registrations.push({ room, jid, nick });
  }

  putOccupant(room: string, record: OccupantRecord): void {
    this.removeOccupant(room, record.nick);
    this.occupants.push({ room, ...structuredClone(record) });
  }

  removeOccupant(room: string, nick: string): void {
    this.occupants = this.occupants.filter((o) => o.room !== room || o.nick !== nick);
  }

  clearOccupants(): void {
    this.occupants = [];
  }

  archive(room: string, message: ArchivedMessage): void {
    this.archived.push({ room, ...message });
  }

  replaceArchived(room: string, id: string, stanza: string): void {
    this.archived = this.archived.map((m) => (m.room === room && m.id === id ? { ...m, stanza } : m));
  }

  expireArchive(before: number): number {
    const kept = this.archived.filter((m) => m.stamp >= before);
    const gone = this.archived.length - kept.length;
    this.archived = kept;
    return gone;
  }

  setMeta(key: string, value: string): void {
    this.meta[key] = value;
  }

  room(jid: string): StoredRoom | undefined {
    const record = this.rooms.find((r) => r.jid === jid);
    if (record === undefined) return undefined;
    return canonicalRoom({
      record,
      affiliations: this.affiliations.filter((a) => a.room === jid).map(({ room: _, ...a }) => a),
      registrations: this.registrations.filter((r) => r.room === jid).map(({ room: _, ...r }) => r),
      occupants: this.occupants.filter((o) => o.room === jid).map(({ room: _, ...o }) => o),
    });
  }

  occupiedRooms(): string[] {
    return [...new Set(this.occupants.map((o) => o.room))].sort(codePointOrder);
  }

  listPublicRooms(after: string | undefined, limit: number, before?: string): { rooms: RoomListing[]; total: number } {
    const listed = this.rooms.filter((r) => r.public).sort((a, b) => codePointOrder(a.jid, b.jid));
    // Before: the `limit` last of those below `before`, in order (by index, unlike the stores' slice).
    const below = before === undefined ? [] : listed.filter((r) => before === "" || codePointOrder(r.jid, before) < 0);
    const page =
      before === undefined ? listed.filter((r) => after === undefined || codePointOrder(r.jid, after) > 0).slice(0, limit) : below.slice(Math.max(0, below.length - limit));
    return {
      rooms: page.map((r) => ({ jid: r.jid, name: r.name })),
      total: listed.length,
    };
  }

  messages(room: string): ArchivedMessage[] {
    return this.archived.filter((m) => m.room === room).map(({ room: _, ...m }) => m);
  }

  recentMessages(room: string, limit: number): ArchivedMessage[] {
    const all = this.messages(room);
    return all.slice(Math.max(0, all.length - limit));
  }

  /** XEP-0313 filters, then XEP-0059 paging, straight from the port's comments. */
  queryArchive(room: string, q: ArchiveQuery): ArchiveAnswer {
    const all = this.messages(room);
    const index = (id: string) => all.findIndex((m) => m.id === id);
    for (const id of [q.afterId, q.beforeId, q.after, q.before === "" ? undefined : q.before]) {
      if (id !== undefined && index(id) < 0) return { found: false, unknownId: id };
    }
    const positioned = all.map((m, i) => ({ m, i }));
    const matching = positioned.filter(
      ({ m, i }) =>
        (q.start === undefined || m.stamp >= q.start) &&
        (q.end === undefined || m.stamp <= q.end) &&
        (q.with === undefined || m.from === q.with) &&
        (q.afterId === undefined || i > index(q.afterId)) &&
        (q.beforeId === undefined || i < index(q.beforeId)) &&
        (q.ids === undefined || q.ids.includes(m.id)),
    );
    const window = matching.filter(
      ({ i }) => (q.after === undefined || i > index(q.after)) && (q.before === undefined || q.before === "" || i < index(q.before)),
    );
    const page = q.before === undefined ? window.slice(0, q.max) : window.slice(Math.max(0, window.length - q.max));
    return { found: true, messages: page.map(({ m }) => m), count: matching.length, complete: window.length <= q.max };
  }
}
