/**
 * The SQLite store (`storage = "sqlite:<path>"`), on Bun's built-in
 * `bun:sqlite`: one connection, WAL, every method synchronous.
 *
 * Writes run at once inside a transaction that the next commit() ends, so a
 * read on the same connection sees them (read your writes) and commit() is a
 * synchronous COMMIT. `synchronous = NORMAL` in WAL mode: a committed
 * transaction is in the operating system's hands when COMMIT returns, so it
 * survives the process being killed (kill -9); only a power loss or kernel
 * crash can take the last ones back (SQLite docs, "PRAGMA synchronous").
 * FULL adds an fsync per commit (docs/storage.md has the measured cost).
 */
import { Database, type SQLQueryBindings } from "bun:sqlite";
import { StorageError } from "../errors.ts";
import type { ArchivedMessage } from "../muc/storage.ts";
import { insertArchivedStatement } from "./archive-sql.ts";
import { ArchiveTally, ensureArchiveRoom } from "./archive-tally.ts";
import { MIGRATIONS, migrateProgram, type Migration, type MigrationResult } from "./migrations.ts";
import { SQLITE } from "./sql-dialect.ts";
import { runSync, statement, type Row, type SqlProgram, type Statement } from "./sql-program.ts";
import { SqlStorage } from "./sql-storage.ts";

export interface SqliteStorageOptions {
  /** Default NORMAL (see above). */
  readonly synchronous?: "NORMAL" | "FULL";
  /** The schema steps; tests pass more or fewer. Default MIGRATIONS. */
  readonly migrations?: readonly Migration[];
  /** ms since the epoch, for schema_version.applied_at. */
  readonly clock?: () => number;
}

/** How long a write waits for another process's lock (`sqlite3` taking a backup, say) before failing. */
const BUSY_TIMEOUT_MS = 5000;

function failure(what: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

export class SqliteStorage extends SqlStorage {
  readonly kind = "sqlite";
  protected readonly dialect = SQLITE;
  /** The schema versions this open went from and to. */
  readonly migration: MigrationResult;
  readonly #db: Database;
  readonly #path: string;
  #inTransaction = false;
  readonly #tally = new ArchiveTally();
  /** archive_rooms ids of the rooms this process archived into. */
  readonly #roomIds = new Map<string, number>();

  /** Open (creating the file if needed) and migrate; throws StorageError. */
  static open(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
    if (typeof path !== "string" || path === "") throw new TypeError("path must be a non-empty string");
    let db: Database;
    try {
      db = new Database(path, { create: true, strict: true });
    } catch (error) {
      throw failure(`cannot open sqlite:${path}`, error);
    }
    try {
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const mode = db.query("PRAGMA journal_mode = WAL").get() as { journal_mode?: string } | null;
      if (mode?.journal_mode !== "wal" && path !== ":memory:") throw new StorageError(`sqlite:${path} cannot use WAL mode (journal_mode is ${mode?.journal_mode})`);
      db.run(`PRAGMA synchronous = ${options.synchronous ?? "NORMAL"}`);
      // Checkpoint the WAL every ~40 MB instead of ~4 MB: fewer, larger copies into the main file (measured 1.5–2× on archive inserts).
      db.run("PRAGMA wal_autocheckpoint = 10000");
      return new SqliteStorage(db, path, options);
    } catch (error) {
      db.close();
      throw failure(`cannot open sqlite:${path}`, error);
    }
  }

  private constructor(db: Database, path: string, options: SqliteStorageOptions) {
    super();
    this.#db = db;
    this.#path = path;
    this.migration = this.transact(migrateProgram(SQLITE, options.migrations ?? MIGRATIONS, (options.clock ?? Date.now)()));
  }

  #execute(s: Statement): Row[] {
    return this.#db.query(s.text).all(...(s.params as SQLQueryBindings[])) as Row[];
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.#db.run("BEGIN IMMEDIATE");
    this.#inTransaction = true;
  }

  #applyTally(): void {
    for (const s of this.#tally.drain(SQLITE)) this.#execute(s);
  }

  protected read<T>(program: SqlProgram<T>): T {
    try {
      if (this.#tally.size > 0) this.#applyTally();
      return runSync(program, (s) => this.#execute(s));
    } catch (error) {
      throw failure(`sqlite:${this.#path} read`, error);
    }
  }

  protected write(s: Statement): void {
    try {
      this.#begin();
      this.#execute(s);
    } catch (error) {
      throw failure(`sqlite:${this.#path} write`, error);
    }
  }

  protected writeArchived(room: string, message: ArchivedMessage): void {
    try {
      this.#begin();
      this.#execute(insertArchivedStatement(this.#roomId(room, message.stamp), message));
      this.#tally.add(room, message.stamp);
    } catch (error) {
      throw failure(`sqlite:${this.#path} archive`, error);
    }
  }

  #roomId(room: string, stamp: number): number {
    let id = this.#roomIds.get(room);
    if (id === undefined) {
      this.#execute(ensureArchiveRoom(room, stamp));
      id = Number(this.#execute(statement("SELECT id FROM archive_rooms WHERE room = ?", room))[0]!.id);
      this.#roomIds.set(room, id);
    }
    return id;
  }

  protected override forgetArchive(room: string): void {
    this.#tally.forget(room);
    this.#roomIds.delete(room);
  }

  commit(): void {
    this.assertOpen();
    this.#commit();
  }

  #commit(): void {
    if (!this.#inTransaction) return;
    try {
      this.#applyTally();
      this.#db.run("COMMIT");
      this.#inTransaction = false;
    } catch (error) {
      this.#rollback();
      throw failure(`sqlite:${this.#path} commit`, error);
    }
  }

  #rollback(): void {
    this.#inTransaction = false;
    this.#tally.clear();
    this.#roomIds.clear();
    try {
      this.#db.run("ROLLBACK");
    } catch {
      // Nothing to roll back: SQLite ended the transaction itself.
    }
  }

  protected transact<T>(program: SqlProgram<T>): T {
    this.#commit();
    try {
      this.#begin();
      const result = runSync(program, (s) => this.#execute(s));
      this.#db.run("COMMIT");
      this.#inTransaction = false;
      return result;
    } catch (error) {
      this.#rollback();
      throw failure(`sqlite:${this.#path}`, error);
    }
  }

  protected async release(): Promise<void> {
    try {
      this.#commit();
    } finally {
      this.#db.close();
    }
  }
}
