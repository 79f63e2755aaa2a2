/**
 * The storage suite against a private PostgreSQL (test/e2e/harness/postgres.ts,
 * one server for the file, a fresh database per test), then what only the
 * PostgreSQL store has: collation-proof ordering, connection failures, the
 * environment Bun's client would otherwise read, failed commits.
 */
import { SQL } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StorageError } from "../../src/errors.ts";
import { PostgresStorage, type PostgresTarget } from "../../src/storage/postgres-storage.ts";
import type { Row } from "../../src/storage/sql-program.ts";
import { parseStorageUrl } from "../../src/storage/storage-url.ts";
import { MUCGATE_TEST_PASSWORD, startPostgres, type PostgresServer } from "../e2e/harness/postgres.ts";
import { storageSuite } from "./storage.suite.ts";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

function targetOf(url: string): PostgresTarget {
  const target = parseStorageUrl(url);
  if (typeof target === "string" || target.kind !== "postgres") throw new Error(`not a postgres URL: ${target}`);
  return target;
}

/** A statement on a connection of its own. */
async function onDatabase(url: string, text: string): Promise<Row[]> {
  const t = targetOf(url);
  const sql = new SQL({ adapter: "postgres", hostname: t.host, port: t.port, username: t.user, database: t.database, max: 1 });
  try {
    return [...((await sql.unsafe(text)) as Row[])];
  } finally {
    await sql.close();
  }
}

storageSuite({
  kind: "postgres",
  runs: 12,
  async fresh() {
    const url = await server.createDatabase();
    return {
      url,
      open: (options) => PostgresStorage.open(targetOf(url), options ?? {}),
      sql: (text) => onDatabase(url, text),
    };
  },
});

describe("postgres store", () => {
  test("orders JIDs by code point even where the database's collation would not (ICU en-US)", async () => {
    const store = await PostgresStorage.open(targetOf(await server.createDatabase({ icuLocale: "en-US" })));
    try {
      for (const jid of ["b@rooms.test", "B@rooms.test", "a@rooms.test", "A@rooms.test"]) {
        store.putRoom({ jid, persistent: true, public: true, name: jid, createdAt: 0, data: {} });
        store.putOccupant(jid, { nick: "x", bare: "x@users.test", role: "visitor", sessions: ["x@users.test/r"], presence: "", joinedAt: 0 });
      }
      await store.commit();
      const order = ["A@rooms.test", "B@rooms.test", "a@rooms.test", "b@rooms.test"];
      expect((await store.listPublicRooms({ limit: 10 })).rooms.map((r) => r.jid)).toEqual(order);
      expect(await store.occupiedRooms()).toEqual(order);
      expect((await store.listPublicRooms({ limit: 10, after: "B@rooms.test" })).rooms.map((r) => r.jid)).toEqual(order.slice(2));
    } finally {
      await store.close();
    }
  });

  test("a server that cannot be reached is a StorageError naming host, port and database, never the password", async () => {
    const url = `postgres://mucgate:${MUCGATE_TEST_PASSWORD}@127.0.0.1:1/nowhere`;
    let error: unknown;
    try {
      await PostgresStorage.open(targetOf(url));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StorageError);
    const message = (error as Error).message;
    expect(message).toContain("127.0.0.1:1/nowhere");
    expect(message).not.toContain(MUCGATE_TEST_PASSWORD);
  });

  test("the URL's database wins over PGDATABASE and the other PG* variables", async () => {
    const url = await server.createDatabase();
    const saved = { ...process.env };
    Object.assign(process.env, { PGDATABASE: "postgres", PGHOST: "192.0.2.1", PGPORT: "1", PGUSER: "nobody" });
    let store: PostgresStorage | undefined;
    try {
      store = await PostgresStorage.open(targetOf(url));
      store.setMeta("where", "here");
      await store.commit();
    } finally {
      for (const key of ["PGDATABASE", "PGHOST", "PGPORT", "PGUSER"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      await store?.close();
    }
    expect(await onDatabase(url, "SELECT value FROM meta")).toEqual([{ value: "here" }]);
  });

  test("a failed commit rejects, loses only its own writes, and the commits after it still run", async () => {
    const url = await server.createDatabase();
    const store = await PostgresStorage.open(targetOf(url));
    try {
      const m = (id: string) => ({ id, stamp: 1, from: "r@rooms.test/a", bare: "a@users.test", stanza: "<message/>" });
      store.archive("r@rooms.test", m("one"));
      await store.commit();
      store.setMeta("lost", "yes");
      store.archive("r@rooms.test", m("one")); // duplicate: this transaction fails
      const failing = store.commit();
      store.setMeta("kept", "yes");
      const next = store.commit();
      const outcomes = await Promise.allSettled([failing, next]);
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled"]);
      expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
      expect(await store.getMeta("lost")).toBeUndefined();
      expect(await store.getMeta("kept")).toBe("yes");
    } finally {
      await store.close();
    }
  });

  test("a transaction a read sent that fails fails that read, and the next commit() reports it once", async () => {
    const store = await PostgresStorage.open(targetOf(await server.createDatabase()));
    try {
      const m = { id: "dup", stamp: 1, from: "r@rooms.test/a", bare: "a@users.test", stanza: "<message/>" };
      store.archive("r@rooms.test", m);
      store.archive("r@rooms.test", m);
      let readError: unknown;
      try {
        await store.getMeta("anything");
      } catch (e) {
        readError = e;
      }
      expect(readError).toBeInstanceOf(StorageError);
      let commitError: unknown;
      try {
        await store.commit();
      } catch (e) {
        commitError = e;
      }
      expect(commitError).toBeInstanceOf(StorageError);
      await store.commit();
      expect(await store.getMeta("anything")).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
