/**
 * The PostgreSQL store (`storage = "postgres://…"`), on Bun's built-in SQL
 * client (`import { SQL } from "bun"`; docs/storage.md says why that one).
 *
 * Writes are recorded in memory. commit() sends what was recorded as one
 * transaction, pipelined on one connection (BEGIN, the statements, COMMIT);
 * transactions run strictly one after the other, in the order of the
 * commit() calls, and each commit() settles once its own transaction (and
 * every one before it) has. A read first sends what was recorded (read your
 * writes), then waits for every transaction before it, then runs on the pool
 * — it does not hold up the commits after it.
 *
 * A commit that fails rejects with a StorageError and its writes are lost;
 * the ones after it still run. A failure of a transaction a read sent on
 * commit()'s behalf is reported by the next commit() (and fails reads until
 * then: they could not see their writes).
 */
import { SQL } from "bun";
import { StorageError } from "../errors.ts";
import type { ArchivedMessage } from "../muc/storage.ts";
import { ArchiveTally } from "./archive-tally.ts";
import { MIGRATIONS, migrateProgram, type Migration, type MigrationResult } from "./migrations.ts";
import { POSTGRES } from "./sql-dialect.ts";
import { runAsync, statement, type Row, type SqlProgram, type Statement } from "./sql-program.ts";
import { SqlStorage } from "./sql-storage.ts";
import type { StorageTarget } from "./storage-url.ts";

export type PostgresTarget = Extract<StorageTarget, { kind: "postgres" }>;

export interface PostgresStorageOptions {
  /** Connections in the pool. Default 10 (Bun's default). */
  readonly connections?: number;
  /** The schema steps; tests pass more or fewer. Default MIGRATIONS. */
  readonly migrations?: readonly Migration[];
  /** ms since the epoch, for schema_version.applied_at. */
  readonly clock?: () => number;
}

/** An archived message waiting for commit(): consecutive ones become one INSERT per room. */
interface PendingMessage {
  readonly room: string;
  readonly message: ArchivedMessage;
}

type Pending = Statement | PendingMessage;

/** `?` → `$1, $2, …` (our statements have no `?` anywhere else), once per text. */
const numbered = new Map<string, string>();
function postgresText(text: string): string {
  let out = numbered.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    numbered.set(text, out);
  }
  return out;
}

function execute(client: SQL, s: Statement): Promise<Row[]> {
  return client.unsafe(postgresText(s.text), s.params as unknown[]) as unknown as Promise<Row[]>;
}

function failure(what: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/**
 * One run of archived messages: each room's archive_rooms row and tally, then
 * its messages in one INSERT through unnest, whose ORDER BY assigns `seq` in
 * archive order.
 */
function archiveStatements(run: Map<string, ArchivedMessage[]>): Statement[] {
  const tally = new ArchiveTally();
  for (const [room, messages] of run) for (const m of messages) tally.add(room, m.stamp);
  const statements = tally.drain(POSTGRES);
  for (const [room, messages] of run) {
    statements.push(
      statement(
        `INSERT INTO archive (room_id, id, stamp, sender, bare, stanza)
         SELECT (SELECT id FROM archive_rooms WHERE room = ?), u.id, u.stamp, u.sender, u.bare, u.stanza
         FROM unnest(?::text[], ?::int8[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS u(id, stamp, sender, bare, stanza, n)
         ORDER BY u.n`,
        room,
        messages.map((m) => m.id),
        messages.map((m) => m.stamp),
        messages.map((m) => m.from),
        messages.map((m) => m.bare),
        messages.map((m) => m.stanza),
      ),
    );
  }
  return statements;
}

function transactionStatements(pending: readonly Pending[]): Statement[] {
  const statements: Statement[] = [];
  let run = new Map<string, ArchivedMessage[]>();
  const endRun = () => {
    if (run.size === 0) return;
    statements.push(...archiveStatements(run));
    run = new Map();
  };
  for (const p of pending) {
    if ("text" in p) {
      endRun();
      statements.push(p);
    } else {
      const messages = run.get(p.room);
      if (messages === undefined) run.set(p.room, [p.message]);
      else messages.push(p.message);
    }
  }
  endRun();
  return statements;
}

export class PostgresStorage extends SqlStorage {
  readonly kind = "postgres";
  protected readonly dialect = POSTGRES;
  readonly migration: MigrationResult;
  readonly #sql: SQL;
  /** `host:port/database`, for messages (never the user or password). */
  readonly #where: string;
  #pending: Pending[] = [];
  /** Settles (never rejects) when the last transaction sent has ended. */
  #settled: Promise<void> = Promise.resolve();
  /** The first failure of a transaction since commit() last reported one. */
  #failure: StorageError | undefined;

  /** Connect and migrate; rejects with a StorageError naming host, port and database. */
  static async open(target: PostgresTarget, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
    const where = `${target.host}:${target.port}/${target.database}`;
    // Every field explicitly: Bun would otherwise take PGDATABASE over a URL's database (Bun docs, "Precedence").
    const sql = new SQL({
      adapter: "postgres",
      hostname: target.host,
      port: target.port,
      username: target.user,
      password: target.password ?? "",
      database: target.database,
      ...(target.sslmode === undefined ? {} : { tls: target.sslmode }),
      max: options.connections ?? 10,
    });
    try {
      const program = migrateProgram(POSTGRES, options.migrations ?? MIGRATIONS, (options.clock ?? Date.now)());
      const migration = await sql.begin((tx) => runAsync(program, (s) => execute(tx, s)));
      return new PostgresStorage(sql, where, migration);
    } catch (error) {
      await sql.close({ timeout: 0 });
      throw failure(`cannot open postgres ${where}`, error);
    }
  }

  private constructor(sql: SQL, where: string, migration: MigrationResult) {
    super();
    this.#sql = sql;
    this.#where = where;
    this.migration = migration;
  }

  protected write(s: Statement): void {
    this.#pending.push(s);
  }

  protected writeArchived(room: string, message: ArchivedMessage): void {
    this.#pending.push({ room, message });
  }

  /** Send what was recorded as the next transaction. */
  #send(): void {
    if (this.#pending.length === 0) return;
    const statements = transactionStatements(this.#pending);
    this.#pending = [];
    const done = this.#settled.then(() => this.#sql.begin((tx) => statements.map((s) => execute(tx, s))));
    this.#settled = done.then(
      () => undefined,
      (error: unknown) => {
        this.#failure ??= failure(`postgres ${this.#where} commit`, error);
      },
    );
  }

  protected async read<T>(program: SqlProgram<T>): Promise<T> {
    this.#send();
    await this.#settled;
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return await runAsync(program, (s) => execute(this.#sql, s));
    } catch (error) {
      throw failure(`postgres ${this.#where} read`, error);
    }
  }

  protected transact<T>(program: SqlProgram<T>): Promise<T> {
    this.#send();
    const result = this.#settled.then(() => this.#sql.begin((tx) => runAsync(program, (s) => execute(tx, s))));
    this.#settled = result.then(
      () => undefined,
      () => undefined, // its caller hears of it
    );
    return result.catch((error: unknown) => {
      throw failure(`postgres ${this.#where}`, error);
    }) as Promise<T>;
  }

  commit(): Promise<void> {
    this.assertOpen();
    return this.#commit();
  }

  async #commit(): Promise<void> {
    this.#send();
    await this.#settled;
    const reported = this.#failure;
    this.#failure = undefined;
    if (reported !== undefined) throw reported;
  }

  protected async release(): Promise<void> {
    try {
      await this.#commit();
    } finally {
      await this.#sql.close();
    }
  }
}
