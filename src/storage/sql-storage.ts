/**
 * What the SQLite and PostgreSQL stores share: every method of the port, as
 * the statements and programs of room-sql.ts and archive-sql.ts. A subclass
 * says how a write is recorded, how a read waits for the writes before it, and
 * how a transaction runs — synchronously on SQLite, in order on a pool for
 * PostgreSQL.
 */
import { StorageError } from "../errors.ts";
import type {
  ArchiveAnswer,
  ArchivedMessage,
  ArchiveQuery,
  MaybePromise,
  OccupantRecord,
  RoomListing,
  RoomRecord,
  Storage,
  StoredAffiliation,
  StoredRoom,
} from "../muc/storage.ts";
import {
  expireBatchProgram,
  getArchivedProgram,
  queryArchiveProgram,
  recentMessagesProgram,
  replaceArchivedStatement,
} from "./archive-sql.ts";
import {
  CLEAR_OCCUPANTS,
  deleteRoomStatements,
  getMetaProgram,
  listPublicRoomsProgram,
  loadRoomProgram,
  occupiedRoomsProgram,
  putOccupantStatement,
  putRoomStatement,
  removeOccupantStatement,
  setAffiliationStatement,
  setMetaStatement,
  setRegistrationStatement,
} from "./room-sql.ts";
import type { SqlDialect } from "./sql-dialect.ts";
import type { SqlProgram, Statement } from "./sql-program.ts";
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

/** Messages deleted per retention transaction: short enough never to hold the database for long. */
const EXPIRY_BATCH = 1000;

export abstract class SqlStorage implements Storage {
  abstract readonly kind: string;
  protected abstract readonly dialect: SqlDialect;
  #closed = false;

  /** Run a read after every write recorded before it (read your writes). */
  protected abstract read<T>(program: SqlProgram<T>): MaybePromise<T>;
  /** Record a write for the transaction the next commit() ends. */
  protected abstract write(statement: Statement): void;
  /** Record an archived message (stores batch these their own way). */
  protected abstract writeArchived(room: string, message: ArchivedMessage): void;
  /** Run `program` in a transaction of its own, after every write recorded before it. */
  protected abstract transact<T>(program: SqlProgram<T>): MaybePromise<T>;
  /** Everything of the room's archive that the store keeps outside the database goes (deleteRoom). */
  protected forgetArchive(_room: string): void {}
  /** Commit what is recorded, then release the database. */
  protected abstract release(): Promise<void>;
  abstract commit(): MaybePromise<void>;

  protected assertOpen(): void {
    if (this.#closed) throw new StorageError(`the ${this.kind} storage is closed`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.release();
  }

  loadRoom(jid: string): MaybePromise<StoredRoom | undefined> {
    checkText(jid, "room jid");
    this.assertOpen();
    return this.read(loadRoomProgram(jid));
  }

  occupiedRooms(): MaybePromise<readonly string[]> {
    this.assertOpen();
    return this.read(occupiedRoomsProgram());
  }

  listPublicRooms(options: { after?: string | undefined; before?: string | undefined; limit: number }): MaybePromise<{ rooms: readonly RoomListing[]; total: number }> {
    if (options?.after !== undefined) checkText(options.after, "after");
    if (options?.before !== undefined) checkString(options.before, "before"); // "" is the last page
    checkInteger(options.limit, "limit", 0);
    this.assertOpen();
    return this.read(listPublicRoomsProgram(options.after, options.limit, options.before));
  }

  putRoom(record: RoomRecord): void {
    checkRoomRecord(record);
    this.assertOpen();
    this.write(putRoomStatement(record));
  }

  deleteRoom(jid: string): void {
    checkText(jid, "room jid");
    this.assertOpen();
    this.forgetArchive(jid);
    for (const s of deleteRoomStatements(jid)) this.write(s);
  }

  setAffiliation(room: string, jid: string, affiliation: StoredAffiliation | undefined, reason?: string): void {
    checkText(room, "room jid");
    checkText(jid, "jid");
    checkAffiliation(affiliation, reason);
    this.assertOpen();
    this.write(setAffiliationStatement(room, jid, affiliation, reason));
  }

  setRegistration(room: string, jid: string, nick: string | undefined): void {
    checkText(room, "room jid");
    checkText(jid, "jid");
    if (nick !== undefined) checkText(nick, "nick");
    this.assertOpen();
    this.write(setRegistrationStatement(room, jid, nick));
  }

  putOccupant(room: string, record: OccupantRecord): void {
    checkText(room, "room jid");
    checkOccupant(record);
    this.assertOpen();
    this.write(putOccupantStatement(room, record));
  }

  removeOccupant(room: string, nick: string): void {
    checkText(room, "room jid");
    checkText(nick, "nick");
    this.assertOpen();
    this.write(removeOccupantStatement(room, nick));
  }

  clearOccupants(): void {
    this.assertOpen();
    this.write(CLEAR_OCCUPANTS);
  }

  archive(room: string, message: ArchivedMessage): void {
    checkText(room, "room jid");
    checkMessage(message);
    this.assertOpen();
    this.writeArchived(room, message);
  }

  getArchived(room: string, id: string): MaybePromise<ArchivedMessage | undefined> {
    checkText(room, "room jid");
    checkText(id, "id");
    this.assertOpen();
    return this.read(getArchivedProgram(room, id));
  }

  replaceArchived(room: string, id: string, stanza: string): void {
    checkText(room, "room jid");
    checkText(id, "id");
    checkString(stanza, "stanza");
    this.assertOpen();
    this.write(replaceArchivedStatement(room, id, stanza));
  }

  queryArchive(room: string, query: ArchiveQuery): MaybePromise<ArchiveAnswer> {
    checkText(room, "room jid");
    checkQuery(query);
    this.assertOpen();
    return this.read(queryArchiveProgram(this.dialect, room, query));
  }

  recentMessages(room: string, limit: number): MaybePromise<readonly ArchivedMessage[]> {
    checkText(room, "room jid");
    checkInteger(limit, "limit", 0);
    this.assertOpen();
    return this.read(recentMessagesProgram(room, limit));
  }

  /** Batch after batch, each its own transaction, other work running between them. */
  async expireArchive(before: number): Promise<number> {
    checkInteger(before, "before");
    this.assertOpen();
    let total = 0;
    let after = 0;
    for (;;) {
      const batch = await this.transact(expireBatchProgram(before, after, EXPIRY_BATCH));
      total += batch.deleted;
      if (batch.next === undefined) return total;
      after = batch.next;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  getMeta(key: string): MaybePromise<string | undefined> {
    checkText(key, "key");
    this.assertOpen();
    return this.read(getMetaProgram(key));
  }

  setMeta(key: string, value: string): void {
    checkText(key, "key");
    checkString(value, "value");
    this.assertOpen();
    this.write(setMetaStatement(key, value));
  }
}
