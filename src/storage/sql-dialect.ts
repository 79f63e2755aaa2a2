/**
 * Where the SQL of the two stores differs. Everything else (src/storage/*-sql.ts)
 * is one text for both: `?` placeholders, `ON CONFLICT … DO UPDATE`,
 * `RETURNING`, booleans bound as JS booleans (SQLite stores 1/0).
 */
import type { SqlValue } from "./sql-program.ts";

export interface SqlDialect {
  readonly name: "sqlite" | "postgres";
  /** A condition: `column` is one of the strings bound by `oneOfValue`. */
  oneOf(column: string): string;
  oneOfValue(values: readonly string[]): SqlValue;
  /** The larger of two integer expressions. */
  greatest(a: string, b: string): string;
  /** Run first in a migration's transaction; undefined when the transaction's own lock suffices. */
  readonly migrationLock: string | undefined;
}

export const SQLITE: SqlDialect = {
  name: "sqlite",
  oneOf: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  oneOfValue: (values) => JSON.stringify(values),
  greatest: (a, b) => `max(${a}, ${b})`,
  // The store runs migrations in BEGIN IMMEDIATE, which takes the write lock.
  migrationLock: undefined,
};

/** An arbitrary constant: two mucgates starting on one database migrate one after the other. */
const MIGRATION_LOCK_KEY = 0x6d75_6367; // "mucg"

export const POSTGRES: SqlDialect = {
  name: "postgres",
  oneOf: (column) => `${column} = ANY(?::text[])`,
  oneOfValue: (values) => values,
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  // PostgreSQL docs, "Advisory Locks": held until the transaction ends.
  migrationLock: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`,
};
