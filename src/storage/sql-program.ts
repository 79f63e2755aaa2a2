/**
 * A database conversation written once for both SQL stores: a generator that
 * yields each statement and is resumed with its rows. SQLite runs it
 * synchronously (`runSync`), PostgreSQL awaits each answer (`runAsync`), so a
 * read that takes several statements (an archive page, a room, a migration)
 * has one implementation whatever the driver.
 */

/** What a statement binds: scalars, and arrays for PostgreSQL's `unnest`/`ANY`. */
export type SqlValue = string | number | boolean | null | readonly string[] | readonly number[];

/** One statement with `?` placeholders (the PostgreSQL store numbers them). */
export interface Statement {
  readonly text: string;
  readonly params: readonly SqlValue[];
}

export type Row = Record<string, unknown>;

export type SqlProgram<T> = Generator<Statement, T, Row[]>;

export function statement(text: string, ...params: SqlValue[]): Statement {
  return { text, params };
}

export function runSync<T>(program: SqlProgram<T>, execute: (s: Statement) => Row[]): T {
  let step = program.next();
  while (!step.done) step = program.next(execute(step.value));
  return step.value;
}

export async function runAsync<T>(program: SqlProgram<T>, execute: (s: Statement) => Promise<Row[]>): Promise<T> {
  let step = program.next();
  while (!step.done) step = program.next(await execute(step.value));
  return step.value;
}
