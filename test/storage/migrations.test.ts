/** The migration list itself: what every store's schema rests on. */
import { expect, test } from "bun:test";
import { MIGRATIONS } from "../../src/storage/migrations.ts";

test("steps are numbered 1, 2, … in order, each with a description and statements for both dialects", () => {
  expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  for (const m of MIGRATIONS) {
    expect(m.description).not.toBe("");
    expect(m.sqlite.length).toBeGreaterThan(0);
    expect(m.postgres.length).toBeGreaterThan(0);
  }
});

test("both dialects create the same tables and indexes", () => {
  const names = (statements: readonly string[]) =>
    statements.flatMap((s) => [...s.matchAll(/CREATE (?:UNIQUE )?(?:TABLE|INDEX) (\w+)/g)].map((m) => m[1])).sort();
  for (const m of MIGRATIONS) expect(names(m.postgres)).toEqual(names(m.sqlite));
});
