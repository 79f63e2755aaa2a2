/**
 * What a batch of archived messages changes in `archive_rooms`: per room, how
 * many were added and whether their stamps kept going forwards. Applied as one
 * UPDATE per room instead of one per message, so counting costs nothing on
 * the insert path and `count` of an unfiltered query is read, not scanned.
 */
import type { SqlDialect } from "./sql-dialect.ts";
import { statement, type Statement } from "./sql-program.ts";

interface RoomTally {
  added: number;
  first: number;
  min: number;
  max: number;
  last: number;
  /** Each stamp >= the one before it, within the batch. */
  sorted: boolean;
}

export class ArchiveTally {
  readonly #rooms = new Map<string, RoomTally>();

  get size(): number {
    return this.#rooms.size;
  }

  add(room: string, stamp: number): void {
    const t = this.#rooms.get(room);
    if (t === undefined) {
      this.#rooms.set(room, { added: 1, first: stamp, min: stamp, max: stamp, last: stamp, sorted: true });
      return;
    }
    t.added++;
    t.sorted &&= stamp >= t.last;
    t.last = stamp;
    if (stamp < t.min) t.min = stamp;
    if (stamp > t.max) t.max = stamp;
  }

  /** The room's archive was deleted: what was counted for it went with it. */
  forget(room: string): void {
    this.#rooms.delete(room);
  }

  clear(): void {
    this.#rooms.clear();
  }

  /**
   * The statements that create each room's `archive_rooms` row if needed and
   * apply its tally (then the tally is empty). SET expressions read the old
   * row (SQL standard), so `ordered` compares with the previous max_stamp.
   */
  drain(dialect: SqlDialect): Statement[] {
    const statements: Statement[] = [];
    for (const [room, t] of this.#rooms) {
      statements.push(ensureArchiveRoom(room, t.first));
      statements.push(
        statement(
          `UPDATE archive_rooms SET count = count + ?, ordered = ordered AND ? AND ? >= max_stamp,
             max_stamp = ${dialect.greatest("max_stamp", "?")} WHERE room = ?`,
          t.added,
          t.sorted,
          t.min,
          t.max,
          room,
        ),
      );
    }
    this.#rooms.clear();
    return statements;
  }
}

/** The room's archive row, made on its first message (its stamp is the first max_stamp). */
export function ensureArchiveRoom(room: string, stamp: number): Statement {
  return statement(
    "INSERT INTO archive_rooms (room, count, max_stamp, ordered) VALUES (?, 0, ?, ?) ON CONFLICT (room) DO NOTHING",
    room,
    stamp,
    true,
  );
}
