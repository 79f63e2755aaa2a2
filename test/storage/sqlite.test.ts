/**
 * The storage suite against SQLite files in temp dirs, then what only the
 * SQLite store has: WAL, the file's path, the query plans the archive's
 * speed rests on.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { openStorage } from "../../src/storage/open-storage.ts";
import type { Row } from "../../src/storage/sql-program.ts";
import { SqliteStorage } from "../../src/storage/sqlite-storage.ts";
import { storageSuite } from "./storage.suite.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mucgate-sqlite-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Statements on a connection of their own (the store's stays open meanwhile, as a backup tool's would). */
function onFile(path: string, text: string): Row[] {
  const db = new Database(path);
  try {
    return db.query(text).all() as Row[];
  } finally {
    db.close();
  }
}

storageSuite({
  kind: "sqlite",
  runs: 60,
  async fresh() {
    const path = join(tempDir(), "mucgate.sqlite");
    return {
      url: `sqlite:${path}`,
      open: async (options) => SqliteStorage.open(path, options ?? {}),
      sql: async (text) => onFile(path, text),
    };
  },
});

describe("sqlite file", () => {
  test("is in WAL mode, at the path given, relative to the working directory", async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    let store;
    try {
      store = await openStorage("sqlite:relative.sqlite", { logger: silentLogger });
    } finally {
      process.chdir(cwd);
    }
    try {
      expect(existsSync(join(dir, "relative.sqlite"))).toBe(true);
      expect(onFile(join(dir, "relative.sqlite"), "PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
    } finally {
      await store.close();
    }
  });

  test("a file that is not a database, or a directory that does not exist, is a StorageError naming the path", () => {
    const dir = tempDir();
    const junk = join(dir, "junk.sqlite");
    writeFileSync(junk, "this is not a database, just some text that is long enough".repeat(20));
    for (const path of [junk, join(dir, "missing", "x.sqlite")]) {
      let error: unknown;
      try {
        SqliteStorage.open(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain(path);
    }
  });

  test("archive pages, counts and time bounds walk an index in archive order, never a sort or a table scan", async () => {
    const path = join(tempDir(), "plans.sqlite");
    const store = SqliteStorage.open(path);
    await store.close();
    const plan = (text: string) =>
      onFile(path, `EXPLAIN QUERY PLAN ${text}`)
        .map((r) => String(r.detail))
        .join("; ");
    const cases = {
      lastPage: "SELECT id FROM archive WHERE room_id = 1 ORDER BY seq DESC LIMIT 51",
      after: "SELECT id FROM archive WHERE room_id = 1 AND seq >= 500 ORDER BY seq ASC LIMIT 51",
      with: "SELECT id FROM archive WHERE room_id = 1 AND sender = 'r/alice' ORDER BY seq DESC LIMIT 51",
      withCount: "SELECT count(*) FROM archive WHERE room_id = 1 AND sender = 'r/alice'",
      start: "SELECT seq FROM archive WHERE room_id = 1 AND stamp >= 5 ORDER BY stamp, seq LIMIT 1",
      position: "SELECT seq FROM archive WHERE room_id = 1 AND id = 'x'",
      expiry: "SELECT seq FROM archive WHERE room_id = 1 AND stamp < 5 LIMIT 1000",
      publicRooms: "SELECT jid, name FROM rooms WHERE public = 1 AND jid > 'a' ORDER BY jid LIMIT 50",
    };
    for (const [what, text] of Object.entries(cases)) {
      const shown = plan(text);
      expect({ what, indexed: /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY|USING PRIMARY KEY/.test(shown), sorted: shown.includes("TEMP B-TREE") }).toEqual({
        what,
        indexed: true,
        sorted: false,
      });
    }
  });
});
