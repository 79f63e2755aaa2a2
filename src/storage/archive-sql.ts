/**
 * The archive's SQL, one text for SQLite and PostgreSQL (XEP-0313 queries
 * with XEP-0059 paging, join history, retention).
 *
 * Messages are kept in `seq` order (the order the room archived them). Every
 * page is one index range walked in that order, LIMIT max + 1: the extra row
 * says whether the page reaches the end (`complete`). Counting is the only
 * part that can scan, so it is avoided where the answer is known:
 * - no filter: the count kept in `archive_rooms`;
 * - `start`/`end` in a room whose stamps never went backwards
 *   (`archive_rooms.ordered`): the time range is a seq range, found by two
 *   index probes; otherwise stamps are filtered row by row.
 */
import type { ArchiveAnswer, ArchivedMessage, ArchiveQuery } from "../muc/storage.ts";
import type { SqlDialect } from "./sql-dialect.ts";
import { statement, type Row, type SqlProgram, type SqlValue, type Statement } from "./sql-program.ts";

const COLUMNS = "id, stamp, sender, bare, stanza";
const ROOM_ID = "(SELECT id FROM archive_rooms WHERE room = ?)";

export function toArchivedMessage(row: Row): ArchivedMessage {
  return {
    id: row.id as string,
    stamp: Number(row.stamp),
    from: row.sender as string,
    bare: row.bare as string,
    stanza: row.stanza as string,
  };
}

const NOTHING: ArchiveAnswer = { found: true, messages: [], count: 0, complete: true };

function max(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function min(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** Conditions joined with AND, and their parameters. */
class Where {
  readonly conditions: string[] = [];
  readonly params: SqlValue[] = [];

  constructor(from?: Where) {
    if (from) {
      this.conditions.push(...from.conditions);
      this.params.push(...from.params);
    }
  }

  add(condition: string, ...params: SqlValue[]): this {
    this.conditions.push(condition);
    this.params.push(...params);
    return this;
  }

  /** `low <= seq <= high`, each side when defined. */
  seqWithin(low: number | undefined, high: number | undefined): this {
    if (low !== undefined) this.add("seq >= ?", low);
    if (high !== undefined) this.add("seq <= ?", high);
    return this;
  }

  get text(): string {
    return this.conditions.join(" AND ");
  }
}

export function* queryArchiveProgram(dialect: SqlDialect, room: string, query: ArchiveQuery): SqlProgram<ArchiveAnswer> {
  const [info] = yield statement("SELECT id, count, ordered FROM archive_rooms WHERE room = ?", room);
  const roomId = info === undefined ? undefined : Number(info.id);

  // Every id the query names, as its seq; an unknown one answers item-not-found (XEP-0313 §4.3).
  const named = [query.afterId, query.beforeId, query.after, query.before === "" ? undefined : query.before];
  const seqs: (number | undefined)[] = [];
  for (const id of named) {
    if (id === undefined) {
      seqs.push(undefined);
      continue;
    }
    const [row] = roomId === undefined ? [] : yield statement("SELECT seq FROM archive WHERE room_id = ? AND id = ?", roomId, id);
    if (row === undefined) return { found: false, unknownId: id };
    seqs.push(Number(row.seq));
  }
  if (info === undefined || roomId === undefined) return NOTHING;
  const [afterIdSeq, beforeIdSeq, afterSeq, beforeSeq] = seqs;

  // The filters: seq bounds (inclusive) where they can be, conditions where not.
  let low = afterIdSeq === undefined ? undefined : afterIdSeq + 1;
  let high = beforeIdSeq === undefined ? undefined : beforeIdSeq - 1;
  const where = new Where().add("room_id = ?", roomId);
  const ordered = Boolean(info.ordered);
  if (ordered && query.start !== undefined) {
    const [first] = yield statement(
      "SELECT seq FROM archive WHERE room_id = ? AND stamp >= ? ORDER BY stamp, seq LIMIT 1",
      roomId,
      query.start,
    );
    if (first === undefined) return NOTHING;
    low = max(low, Number(first.seq));
  }
  if (ordered && query.end !== undefined) {
    const [last] = yield statement(
      "SELECT seq FROM archive WHERE room_id = ? AND stamp <= ? ORDER BY stamp DESC, seq DESC LIMIT 1",
      roomId,
      query.end,
    );
    if (last === undefined) return NOTHING;
    high = min(high, Number(last.seq));
  }
  if (!ordered && query.start !== undefined) where.add("stamp >= ?", query.start);
  if (!ordered && query.end !== undefined) where.add("stamp <= ?", query.end);
  if (query.with !== undefined) where.add("sender = ?", query.with);
  if (query.ids !== undefined) where.add(dialect.oneOf("id"), dialect.oneOfValue(query.ids));

  let count: number;
  if (where.conditions.length === 1 && low === undefined && high === undefined) {
    count = Number(info.count);
  } else {
    const counted = new Where(where).seqWithin(low, high);
    const [row] = yield { text: `SELECT count(*) AS n FROM archive WHERE ${counted.text}`, params: counted.params };
    count = Number(row?.n ?? 0);
  }

  // The page: RSM after/before narrow the same range (XEP-0059 §2.2, §2.5).
  const page = new Where(where).seqWithin(
    max(low, afterSeq === undefined ? undefined : afterSeq + 1),
    min(high, beforeSeq === undefined ? undefined : beforeSeq - 1),
  );
  const backwards = query.before !== undefined;
  const rows = yield {
    text: `SELECT ${COLUMNS} FROM archive WHERE ${page.text} ORDER BY seq ${backwards ? "DESC" : "ASC"} LIMIT ?`,
    params: [...page.params, query.max + 1],
  };
  const messages = rows.slice(0, query.max).map(toArchivedMessage);
  if (backwards) messages.reverse();
  return { found: true, messages, count, complete: rows.length <= query.max };
}

export function* recentMessagesProgram(room: string, limit: number): SqlProgram<ArchivedMessage[]> {
  const rows = yield statement(`SELECT ${COLUMNS} FROM archive WHERE room_id = ${ROOM_ID} ORDER BY seq DESC LIMIT ?`, room, limit);
  return rows.map(toArchivedMessage).reverse();
}

export function* getArchivedProgram(room: string, id: string): SqlProgram<ArchivedMessage | undefined> {
  const [row] = yield statement(`SELECT ${COLUMNS} FROM archive WHERE room_id = ${ROOM_ID} AND id = ?`, room, id);
  return row === undefined ? undefined : toArchivedMessage(row);
}

export function replaceArchivedStatement(room: string, id: string, stanza: string): Statement {
  return statement(`UPDATE archive SET stanza = ? WHERE room_id = ${ROOM_ID} AND id = ?`, stanza, room, id);
}

/** The SQLite store's insert, one row per statement (PostgreSQL sends a batch through unnest). */
export function insertArchivedStatement(roomId: number, message: ArchivedMessage): Statement {
  return statement(
    "INSERT INTO archive (room_id, id, stamp, sender, bare, stanza) VALUES (?, ?, ?, ?, ?, ?)",
    roomId,
    message.id,
    message.stamp,
    message.from,
    message.bare,
    message.stanza,
  );
}

/** Rooms looked at per expiry transaction. */
const ROOMS_PER_BATCH = 100;

export interface ExpiryBatch {
  readonly deleted: number;
  /** Where the next batch starts (an archive_rooms id, exclusive); undefined when every room was seen. */
  readonly next: number | undefined;
}

/**
 * One short transaction of retention: messages older than `before` in the
 * rooms after `afterRoomId`, at most `budget` of them, through the
 * (room_id, stamp) index; counts kept in step.
 */
export function* expireBatchProgram(before: number, afterRoomId: number, budget: number): SqlProgram<ExpiryBatch> {
  const rooms = yield statement("SELECT id FROM archive_rooms WHERE id > ? ORDER BY id LIMIT ?", afterRoomId, ROOMS_PER_BATCH);
  let deleted = 0;
  for (const room of rooms) {
    const id = Number(room.id);
    const gone = yield statement(
      "DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE room_id = ? AND stamp < ? LIMIT ?) RETURNING seq",
      id,
      before,
      budget - deleted,
    );
    if (gone.length > 0) yield statement("UPDATE archive_rooms SET count = count - ? WHERE id = ?", gone.length, id);
    deleted += gone.length;
    // The budget is spent: this room may hold more, so the next batch starts with it again.
    if (deleted >= budget) return { deleted, next: id - 1 };
  }
  return { deleted, next: rooms.length < ROOMS_PER_BATCH ? undefined : Number(rooms.at(-1)!.id) };
}
