/**
 * The schema, as numbered steps applied in order at open, in one transaction,
 * each recorded in `schema_version`. Both dialects of a step sit side by side
 * in one list, so a change to the schema is written (and reviewed) for both at
 * once and the two can never disagree on what version N means.
 *
 * Rules for new steps: append, never edit a released one; keep data (ALTER,
 * copy, drop last); each dialect's statements run one by one.
 *
 * Tables (docs/storage.md): rooms, affiliations, registrations and occupants
 * keyed by room JID; the archive keyed by a per-room integer (archive_rooms,
 * which also keeps the room's message count and whether its stamps never went
 * backwards, so counts and time filters need no scan); meta for service-wide
 * values. PostgreSQL text keys use the "C" collation: JID order is code point
 * order in every store, whatever the database's locale.
 */
import { StorageError } from "../errors.ts";
import type { SqlDialect } from "./sql-dialect.ts";
import { statement, type SqlProgram } from "./sql-program.ts";

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "rooms, affiliations, registrations, occupants, archive, meta",
    sqlite: [
      `CREATE TABLE rooms (
        jid TEXT PRIMARY KEY, persistent INTEGER NOT NULL, public INTEGER NOT NULL,
        name TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL
      ) WITHOUT ROWID`,
      "CREATE INDEX rooms_public ON rooms (public, jid)",
      `CREATE TABLE affiliations (
        room TEXT NOT NULL, jid TEXT NOT NULL, affiliation TEXT NOT NULL, reason TEXT,
        PRIMARY KEY (room, jid)
      ) WITHOUT ROWID`,
      `CREATE TABLE registrations (
        room TEXT NOT NULL, jid TEXT NOT NULL, nick TEXT NOT NULL,
        PRIMARY KEY (room, jid)
      ) WITHOUT ROWID`,
      `CREATE TABLE occupants (
        room TEXT NOT NULL, nick TEXT NOT NULL, bare TEXT NOT NULL, role TEXT NOT NULL,
        sessions TEXT NOT NULL, presence TEXT NOT NULL, joined_at INTEGER NOT NULL,
        PRIMARY KEY (room, nick)
      ) WITHOUT ROWID`,
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
      `CREATE TABLE archive_rooms (
        id INTEGER PRIMARY KEY, room TEXT NOT NULL UNIQUE, count INTEGER NOT NULL,
        max_stamp INTEGER NOT NULL, ordered INTEGER NOT NULL
      )`,
      // seq is the rowid: every index below ends with it, so each serves its filter in archive order.
      `CREATE TABLE archive (
        seq INTEGER PRIMARY KEY, room_id INTEGER NOT NULL, id TEXT NOT NULL, stamp INTEGER NOT NULL,
        sender TEXT NOT NULL, bare TEXT NOT NULL, stanza TEXT NOT NULL
      )`,
      "CREATE UNIQUE INDEX archive_id ON archive (room_id, id)",
      "CREATE INDEX archive_room ON archive (room_id)",
      "CREATE INDEX archive_sender ON archive (room_id, sender)",
      "CREATE INDEX archive_stamp ON archive (room_id, stamp)",
    ],
    postgres: [
      `CREATE TABLE rooms (
        jid text COLLATE "C" PRIMARY KEY, persistent boolean NOT NULL, public boolean NOT NULL,
        name text NOT NULL, created_at bigint NOT NULL, data text NOT NULL
      )`,
      "CREATE INDEX rooms_public ON rooms (public, jid)",
      `CREATE TABLE affiliations (
        room text COLLATE "C" NOT NULL, jid text COLLATE "C" NOT NULL, affiliation text NOT NULL, reason text,
        PRIMARY KEY (room, jid)
      )`,
      `CREATE TABLE registrations (
        room text COLLATE "C" NOT NULL, jid text COLLATE "C" NOT NULL, nick text NOT NULL,
        PRIMARY KEY (room, jid)
      )`,
      `CREATE TABLE occupants (
        room text COLLATE "C" NOT NULL, nick text COLLATE "C" NOT NULL, bare text NOT NULL, role text NOT NULL,
        sessions text NOT NULL, presence text NOT NULL, joined_at bigint NOT NULL,
        PRIMARY KEY (room, nick)
      )`,
      `CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE archive_rooms (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, room text COLLATE "C" NOT NULL UNIQUE,
        count bigint NOT NULL, max_stamp bigint NOT NULL, ordered boolean NOT NULL
      )`,
      `CREATE TABLE archive (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, room_id bigint NOT NULL, id text COLLATE "C" NOT NULL,
        stamp bigint NOT NULL, sender text COLLATE "C" NOT NULL, bare text NOT NULL, stanza text NOT NULL
      )`,
      "CREATE UNIQUE INDEX archive_id ON archive (room_id, id)",
      "CREATE INDEX archive_room ON archive (room_id, seq)",
      "CREATE INDEX archive_sender ON archive (room_id, sender, seq)",
      "CREATE INDEX archive_stamp ON archive (room_id, stamp, seq)",
    ],
  },
];

/** The same text for both: BIGINT is an integer type in SQLite too. */
const VERSION_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";

export interface MigrationResult {
  /** The version the database was at (0: new). */
  readonly from: number;
  readonly to: number;
}

/**
 * Bring the schema to the last of `migrations`, to run in one transaction.
 * Refuses a database at a version this mucgate does not know.
 */
export function* migrateProgram(
  dialect: SqlDialect,
  migrations: readonly Migration[],
  now: number,
): SqlProgram<MigrationResult> {
  if (dialect.migrationLock !== undefined) yield statement(dialect.migrationLock);
  yield statement(VERSION_TABLE);
  const [row] = yield statement("SELECT max(version) AS version FROM schema_version");
  const from = Number(row?.version ?? 0);
  const latest = migrations.at(-1)?.version ?? 0;
  if (from > latest) {
    throw new StorageError(
      `storage schema version ${from} is newer than this mucgate (knows up to ${latest}); upgrade mucgate or restore a backup`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    for (const text of migration[dialect.name]) yield statement(text);
    yield statement(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
      migration.version,
      migration.description,
      now,
    );
  }
  return { from, to: Math.max(from, latest) };
}
