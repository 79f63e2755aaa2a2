/**
 * The conformance suite of the storage port (src/muc/storage.ts): every store
 * runs it, against a real database (memory.test.ts, sqlite.test.ts,
 * postgres.test.ts). Examples first, then fast-check properties against
 * StorageModel: archive paging, writes then loads, reads between uncommitted
 * writes.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { join } from "node:path";
import { StorageError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import type { ArchivedMessage, ArchiveQuery, OccupantRecord, RoomRecord, Storage } from "../../src/muc/storage.ts";
import { MIGRATIONS, type Migration } from "../../src/storage/migrations.ts";
import { openStorage } from "../../src/storage/open-storage.ts";
import type { Row } from "../../src/storage/sql-program.ts";
import { readOp, ROOMS, writeOp, type ReadOp, type WriteOp } from "./storage-arbitraries.ts";
import { canonicalRoom, StorageModel } from "./storage-model.ts";

export interface SuiteDatabase {
  /** What `openStorage` takes for it. */
  readonly url: string;
  /** A store on it (again); memory makes a new, empty one each time. */
  open(options?: { migrations?: readonly Migration[] }): Promise<Storage>;
  /** A statement straight to the database, for what the port cannot see (SQL stores). */
  readonly sql?: (text: string) => Promise<Row[]>;
}

export interface SuiteTarget {
  readonly kind: "memory" | "sqlite" | "postgres";
  /** Runs per property; each run gets a fresh database. */
  readonly runs: number;
  fresh(): Promise<SuiteDatabase>;
}

const ROOM = "lobby@rooms.test";
const LATEST = MIGRATIONS.at(-1)!.version;

function roomRecord(jid: string, changes: Partial<RoomRecord> = {}): RoomRecord {
  return { jid, persistent: true, public: true, name: `Room ${jid}`, createdAt: 1_700_000_000_000, data: { subject: "hi" }, ...changes };
}

function occupant(nick: string, changes: Partial<OccupantRecord> = {}): OccupantRecord {
  return {
    nick,
    bare: `${nick.toLowerCase()}@users.test`,
    role: "participant",
    sessions: [`${nick.toLowerCase()}@users.test/phone`],
    presence: "<show>away</show>",
    joinedAt: 1_700_000_000_000,
    ...changes,
  };
}

function message(id: string, stamp: number, nick = "alice"): ArchivedMessage {
  return { id, stamp, from: `${ROOM}/${nick}`, bare: `${nick}@users.test`, stanza: `<message type='groupchat'><body>${id}</body></message>` };
}

/** What a refused call did: threw at once, or rejected when awaited. */
async function refusal(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A logger whose lines land in `lines`. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger("debug", { write: (line: string) => void lines.push(line) }), lines };
}

const ids = (messages: readonly ArchivedMessage[]) => messages.map((m) => m.id);

/** Apply one generated write to the store and the model alike. */
async function applyWrite(store: Storage, model: StorageModel, op: WriteOp, next: { id: number }): Promise<void> {
  switch (op.op) {
    case "putRoom":
      store.putRoom(op.record);
      return model.putRoom(op.record);
    case "deleteRoom":
      store.deleteRoom(op.room);
      return model.deleteRoom(op.room);
    case "setAffiliation":
      store.setAffiliation(op.room, op.jid, op.affiliation, op.reason);
      return model.setAffiliation(op.room, op.jid, op.affiliation, op.reason);
    case "setRegistration":
      store.setRegistration(op.room, op.jid, op.nick);
      return model.setRegistration(op.room, op.jid, op.nick);
    case "putOccupant":
      store.putOccupant(op.room, op.record);
      return model.putOccupant(op.room, op.record);
    case "removeOccupant":
      store.removeOccupant(op.room, op.nick);
      return model.removeOccupant(op.room, op.nick);
    case "clearOccupants":
      store.clearOccupants();
      return model.clearOccupants();
    case "archive": {
      const m = { id: `m${next.id++}`, ...op.message };
      store.archive(op.room, m);
      return model.archive(op.room, m);
    }
    case "replaceArchived": {
      const known = model.messages(op.room);
      const id = op.pick < known.length ? known[op.pick]!.id : "no-such-id";
      store.replaceArchived(op.room, id, op.stanza);
      return model.replaceArchived(op.room, id, op.stanza);
    }
    case "setMeta":
      store.setMeta(op.key, op.value);
      return model.setMeta(op.key, op.value);
    case "expireArchive":
      expect(await store.expireArchive(op.before)).toBe(model.expireArchive(op.before));
      return;
    case "commit":
      await store.commit();
      return;
  }
}

async function checkRead(store: Storage, model: StorageModel, op: ReadOp): Promise<void> {
  switch (op.read) {
    case "loadRoom":
      expect(canonicalRoom(await store.loadRoom(op.room))).toEqual(model.room(op.room));
      return;
    case "recentMessages":
      expect(await store.recentMessages(op.room, 3)).toEqual(model.recentMessages(op.room, 3));
      return;
    case "lastPage":
      expect(await store.queryArchive(op.room, { max: 4, before: "" })).toEqual(model.queryArchive(op.room, { max: 4, before: "" }));
      return;
    case "getArchived": {
      const known = model.messages(op.room);
      const m = known[op.pick % Math.max(1, known.length)];
      expect(await store.getArchived(op.room, m?.id ?? "no-such-id")).toEqual(m);
      return;
    }
    case "occupiedRooms":
      expect(await store.occupiedRooms()).toEqual(model.occupiedRooms());
      return;
    case "listPublicRooms":
      expect(await store.listPublicRooms({ limit: 2, after: ROOMS[0] })).toEqual(model.listPublicRooms(ROOMS[0], 2));
      expect(await store.listPublicRooms({ limit: 2, before: ROOMS[2] })).toEqual(model.listPublicRooms(undefined, 2, ROOMS[2]));
      expect(await store.listPublicRooms({ limit: 3, before: "" })).toEqual(model.listPublicRooms(undefined, 3, ""));
      return;
    case "getMeta":
      expect({ secret: await store.getMeta("secret"), other: await store.getMeta("other") }).toEqual({
        secret: model.meta.secret,
        other: model.meta.other,
      });
      return;
  }
}

/** Everything the model holds, read back from the store. */
async function checkEverything(store: Storage, model: StorageModel): Promise<void> {
  for (const room of ROOMS) {
    expect(canonicalRoom(await store.loadRoom(room))).toEqual(model.room(room));
    expect(await store.queryArchive(room, { max: 1000 })).toEqual(model.queryArchive(room, { max: 1000 }));
  }
  for (const op of ["occupiedRooms", "listPublicRooms", "getMeta"] as const) await checkRead(store, model, { read: op });
}

export function storageSuite(target: SuiteTarget): void {
  const persistent = target.kind !== "memory";
  const sqlStore = target.kind !== "memory";
  let db: SuiteDatabase;
  let store: Storage;
  const opened: Storage[] = [];
  /** Open a store on `database` that is closed after the test (also when it fails). */
  const open = async (database = db, options?: { migrations?: readonly Migration[] }) => {
    const s = await database.open(options);
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    db = await target.fresh();
    store = await open();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
  });

  describe("rooms and what is stored for them", () => {
    test("a room loads back with its affiliations (and reasons), registrations and occupants", async () => {
      store.putRoom(roomRecord(ROOM, { data: { subject: { text: "Welcome ✨", by: "alice", at: 5 }, config: { members_only: false } } }));
      store.setAffiliation(ROOM, "alice@users.test", "owner", "created it");
      store.setAffiliation(ROOM, "evil.example", "outcast");
      store.setRegistration(ROOM, "bob@users.test", "Bob");
      store.putOccupant(ROOM, occupant("alice", { role: "moderator", sessions: ["alice@users.test/a", "alice@users.test/b"] }));
      store.putOccupant(ROOM, occupant("Bob", { presence: "" }));
      await store.commit();
      expect(canonicalRoom(await store.loadRoom(ROOM))).toEqual({
        record: roomRecord(ROOM, { data: { subject: { text: "Welcome ✨", by: "alice", at: 5 }, config: { members_only: false } } }),
        affiliations: [
          { jid: "alice@users.test", affiliation: "owner", reason: "created it" },
          { jid: "evil.example", affiliation: "outcast", reason: undefined },
        ],
        registrations: [{ jid: "bob@users.test", nick: "Bob" }],
        occupants: [occupant("Bob", { presence: "" }), occupant("alice", { role: "moderator", sessions: ["alice@users.test/a", "alice@users.test/b"] })],
      });
    });

    test("writes replace what they name, and undefined removes an affiliation or a registration", async () => {
      store.putRoom(roomRecord(ROOM));
      store.putRoom(roomRecord(ROOM, { name: "Renamed", public: false, data: { v: 2 } }));
      store.setAffiliation(ROOM, "alice@users.test", "member", "joined");
      store.setAffiliation(ROOM, "alice@users.test", "admin");
      store.setAffiliation(ROOM, "bob@users.test", "member");
      store.setAffiliation(ROOM, "bob@users.test", undefined);
      store.setRegistration(ROOM, "alice@users.test", "Alice");
      store.setRegistration(ROOM, "alice@users.test", "Alicia");
      store.setRegistration(ROOM, "bob@users.test", "Bob");
      store.setRegistration(ROOM, "bob@users.test", undefined);
      store.putOccupant(ROOM, occupant("alice"));
      store.putOccupant(ROOM, occupant("alice", { role: "visitor", presence: "<status>x</status>" }));
      store.putOccupant(ROOM, occupant("Bob"));
      store.removeOccupant(ROOM, "Bob");
      store.removeOccupant(ROOM, "nobody");
      await store.commit();
      expect(await store.loadRoom(ROOM)).toEqual({
        record: roomRecord(ROOM, { name: "Renamed", public: false, data: { v: 2 } }),
        affiliations: [{ jid: "alice@users.test", affiliation: "admin", reason: undefined }],
        registrations: [{ jid: "alice@users.test", nick: "Alicia" }],
        occupants: [occupant("alice", { role: "visitor", presence: "<status>x</status>" })],
      });
    });

    test("deleteRoom forgets the room, its affiliations, registrations, occupants and archive; its ids can be used again", async () => {
      const other = "other@rooms.test";
      for (const jid of [ROOM, other]) {
        store.putRoom(roomRecord(jid));
        store.setAffiliation(jid, "alice@users.test", "owner");
        store.setRegistration(jid, "alice@users.test", "alice");
        store.putOccupant(jid, occupant("alice"));
        store.archive(jid, message("m1", 10));
      }
      await store.commit();
      store.deleteRoom(ROOM);
      await store.commit();
      expect(await store.loadRoom(ROOM)).toBeUndefined();
      expect(await store.queryArchive(ROOM, { max: 10 })).toEqual({ found: true, messages: [], count: 0, complete: true });
      expect(await store.getArchived(ROOM, "m1")).toBeUndefined();
      expect(await store.occupiedRooms()).toEqual([other]);
      // Put back, nothing of the old room comes with it.
      store.putRoom(roomRecord(ROOM));
      store.archive(ROOM, message("m1", 20));
      await store.commit();
      expect(await store.loadRoom(ROOM)).toEqual({ record: roomRecord(ROOM), affiliations: [], registrations: [], occupants: [] });
      expect(await store.queryArchive(ROOM, { max: 10 })).toEqual({ found: true, messages: [message("m1", 20)], count: 1, complete: true });
      expect((await store.loadRoom(other))?.occupants).toHaveLength(1);
      expect(ids(await store.recentMessages(other, 5))).toEqual(["m1"]);
    });

    test("loadRoom is undefined for a room without its record, even when other records name it", async () => {
      store.setAffiliation(ROOM, "alice@users.test", "owner");
      store.putOccupant(ROOM, occupant("alice"));
      await store.commit();
      expect(await store.loadRoom(ROOM)).toBeUndefined();
      expect(await store.loadRoom("nowhere@rooms.test")).toBeUndefined();
    });

    test("occupiedRooms lists the rooms with a stored occupant in JID order; clearOccupants empties them all", async () => {
      expect(await store.occupiedRooms()).toEqual([]);
      for (const jid of ["b@rooms.test", "a@rooms.test", "C@rooms.test"]) {
        store.putRoom(roomRecord(jid));
        store.putOccupant(jid, occupant("alice"));
      }
      store.putRoom(roomRecord("empty@rooms.test"));
      store.putOccupant("gone@rooms.test", occupant("alice"));
      store.removeOccupant("gone@rooms.test", "alice");
      await store.commit();
      expect(await store.occupiedRooms()).toEqual(["C@rooms.test", "a@rooms.test", "b@rooms.test"]);
      store.clearOccupants();
      await store.commit();
      expect(await store.occupiedRooms()).toEqual([]);
      expect((await store.loadRoom("a@rooms.test"))?.occupants).toEqual([]);
    });

    test("listPublicRooms: public rooms in code point order of their JIDs, paged by after and limit, total of all", async () => {
      const jids = ["ä@rooms.test", "b@rooms.test", "A@rooms.test", "a@rooms.test", "Z@rooms.test", "😀@rooms.test"];
      for (const jid of jids) store.putRoom(roomRecord(jid, { name: `name of ${jid}` }));
      store.putRoom(roomRecord("hidden@rooms.test", { public: false }));
      await store.commit();
      const order = ["A@rooms.test", "Z@rooms.test", "a@rooms.test", "b@rooms.test", "ä@rooms.test", "😀@rooms.test"];
      const listing = (jid: string) => ({ jid, name: `name of ${jid}` });
      expect(await store.listPublicRooms({ limit: 100 })).toEqual({ rooms: order.map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 2, after: "Z@rooms.test" })).toEqual({ rooms: order.slice(2, 4).map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 2, after: "a" })).toEqual({ rooms: order.slice(2, 4).map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 0 })).toEqual({ rooms: [], total: 6 });
      expect(await store.listPublicRooms({ limit: 5, after: "😀@rooms.test" })).toEqual({ rooms: [], total: 6 });
      // Backwards (XEP-0059 §2.5): the last page, the page before a JID, still in JID order.
      expect(await store.listPublicRooms({ limit: 2, before: "" })).toEqual({ rooms: order.slice(4).map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 2, before: "ä@rooms.test" })).toEqual({ rooms: order.slice(2, 4).map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 5, before: "Z@rooms.test" })).toEqual({ rooms: order.slice(0, 1).map(listing), total: 6 });
      expect(await store.listPublicRooms({ limit: 0, before: "" })).toEqual({ rooms: [], total: 6 });
      expect(await store.listPublicRooms({ limit: 2, before: "A@rooms.test" })).toEqual({ rooms: [], total: 6 });
    });

    test("room data comes back as the JSON it was: nested values, unicode, empty objects", async () => {
      const data = { a: [1, "two", { three: null }], "ключ": "значение 🎉", empty: {}, n: -12.5, t: true };
      store.putRoom(roomRecord(ROOM, { data }));
      await store.commit();
      expect((await store.loadRoom(ROOM))?.record.data).toEqual(data);
    });

    test("a record changed by the caller after the write changes nothing stored", async () => {
      const data: Record<string, unknown> = { subject: "before" };
      const sessions = ["alice@users.test/a"];
      store.putRoom(roomRecord(ROOM, { data }));
      store.putOccupant(ROOM, occupant("alice", { sessions }));
      data.subject = "after";
      sessions.push("alice@users.test/b");
      await store.commit();
      const loaded = await store.loadRoom(ROOM);
      expect(loaded?.record.data).toEqual({ subject: "before" });
      expect(loaded?.occupants[0]?.sessions).toEqual(["alice@users.test/a"]);
    });

    test("meta: what was set, replaced by a later set; undefined for a key never set", async () => {
      expect(await store.getMeta("secret")).toBeUndefined();
      store.setMeta("secret", "one");
      store.setMeta("secret", "two");
      store.setMeta("empty", "");
      await store.commit();
      expect(await store.getMeta("secret")).toBe("two");
      expect(await store.getMeta("empty")).toBe("");
    });
  });

  describe("the archive", () => {
    /** m1..m6 from alice, bob and carol; stamps 10, 20, … */
    const six = () => [message("m1", 10, "alice"), message("m2", 20, "bob"), message("m3", 30, "alice"), message("m4", 40, "carol"), message("m5", 50, "alice"), message("m6", 60, "bob")];
    const archiveAll = async (messages: ArchivedMessage[], room = ROOM) => {
      for (const m of messages) store.archive(room, m);
      await store.commit();
    };
    const page = async (query: ArchiveQuery) => {
      const answer = await store.queryArchive(ROOM, query);
      if (!answer.found) throw new Error(`unexpected unknown id ${answer.unknownId}`);
      return { ids: ids(answer.messages), count: answer.count, complete: answer.complete };
    };

    test("pages forward with after and backward with before (\"\" = the last page); count ignores paging; complete at the end of each direction", async () => {
      await archiveAll(six());
      expect(await page({ max: 2 })).toEqual({ ids: ["m1", "m2"], count: 6, complete: false });
      expect(await page({ max: 2, after: "m2" })).toEqual({ ids: ["m3", "m4"], count: 6, complete: false });
      expect(await page({ max: 2, after: "m4" })).toEqual({ ids: ["m5", "m6"], count: 6, complete: true });
      expect(await page({ max: 2, after: "m6" })).toEqual({ ids: [], count: 6, complete: true });
      expect(await page({ max: 2, before: "" })).toEqual({ ids: ["m5", "m6"], count: 6, complete: false });
      expect(await page({ max: 2, before: "m5" })).toEqual({ ids: ["m3", "m4"], count: 6, complete: false });
      expect(await page({ max: 2, before: "m3" })).toEqual({ ids: ["m1", "m2"], count: 6, complete: true });
      expect(await page({ max: 10, before: "" })).toEqual({ ids: ["m1", "m2", "m3", "m4", "m5", "m6"], count: 6, complete: true });
      expect(await page({ max: 2, after: "m1", before: "m6" })).toEqual({ ids: ["m4", "m5"], count: 6, complete: false });
      expect(await store.queryArchive(ROOM, { max: 1 })).toEqual({
        found: true,
        messages: [message("m1", 10, "alice")],
        count: 6,
        complete: false,
      });
    });

    test("max 0 answers no message: complete only when nothing matches", async () => {
      await archiveAll(six());
      expect(await page({ max: 0 })).toEqual({ ids: [], count: 6, complete: false });
      expect(await page({ max: 0, before: "" })).toEqual({ ids: [], count: 6, complete: false });
      expect(await page({ max: 0, with: `${ROOM}/nobody` })).toEqual({ ids: [], count: 0, complete: true });
      expect(await store.queryArchive("empty@rooms.test", { max: 0 })).toEqual({ found: true, messages: [], count: 0, complete: true });
    });

    test("filters combine with AND: start and end inclusive, with, afterId and beforeId exclusive, ids in archive order", async () => {
      await archiveAll(six());
      expect(await page({ max: 10, start: 20, end: 50 })).toEqual({ ids: ["m2", "m3", "m4", "m5"], count: 4, complete: true });
      expect(await page({ max: 10, start: 21, end: 49 })).toEqual({ ids: ["m3", "m4"], count: 2, complete: true });
      expect(await page({ max: 10, start: 61 })).toEqual({ ids: [], count: 0, complete: true });
      expect(await page({ max: 10, end: 9 })).toEqual({ ids: [], count: 0, complete: true });
      expect(await page({ max: 10, start: 40, end: 30 })).toEqual({ ids: [], count: 0, complete: true });
      expect(await page({ max: 10, with: `${ROOM}/alice` })).toEqual({ ids: ["m1", "m3", "m5"], count: 3, complete: true });
      expect(await page({ max: 1, with: `${ROOM}/alice`, after: "m1" })).toEqual({ ids: ["m3"], count: 3, complete: false });
      expect(await page({ max: 10, afterId: "m2", beforeId: "m6" })).toEqual({ ids: ["m3", "m4", "m5"], count: 3, complete: true });
      expect(await page({ max: 10, ids: ["m5", "m1", "m4", "unknown"] })).toEqual({ ids: ["m1", "m4", "m5"], count: 3, complete: true });
      expect(await page({ max: 10, ids: [] })).toEqual({ ids: [], count: 0, complete: true });
      expect(await page({ max: 1, start: 20, with: `${ROOM}/alice`, afterId: "m1", before: "" })).toEqual({ ids: ["m5"], count: 2, complete: false });
      // An RSM position outside the filtered set still positions the page.
      expect(await page({ max: 10, with: `${ROOM}/bob`, after: "m3" })).toEqual({ ids: ["m6"], count: 2, complete: true });
    });

    test("stamps that go backwards (a clock stepped back) are still filtered exactly, in archive order", async () => {
      await archiveAll([message("a", 50), message("b", 10), message("c", 40), message("d", 20), message("e", 60)]);
      expect(await page({ max: 10, start: 20, end: 50 })).toEqual({ ids: ["a", "c", "d"], count: 3, complete: true });
      expect(await page({ max: 1, start: 20, before: "" })).toEqual({ ids: ["e"], count: 4, complete: false });
      expect(await page({ max: 2, end: 40, after: "a" })).toEqual({ ids: ["b", "c"], count: 3, complete: false });
    });

    test("an unknown after, before, afterId or beforeId answers found: false naming it (XEP-0313 §4.3); also in an empty room", async () => {
      await archiveAll(six());
      for (const key of ["after", "before", "afterId", "beforeId"] as const) {
        expect(await store.queryArchive(ROOM, { max: 5, [key]: "nope" })).toEqual({ found: false, unknownId: "nope" });
        expect(await store.queryArchive("empty@rooms.test", { max: 5, [key]: "m1" })).toEqual({ found: false, unknownId: "m1" });
      }
      // An id of another room is unknown here.
      await archiveAll([message("elsewhere", 5)], "other@rooms.test");
      expect(await store.queryArchive(ROOM, { max: 5, after: "elsewhere" })).toEqual({ found: false, unknownId: "elsewhere" });
    });

    test("recentMessages: the newest `limit`, oldest first", async () => {
      await archiveAll(six());
      expect(ids(await store.recentMessages(ROOM, 3))).toEqual(["m4", "m5", "m6"]);
      expect(ids(await store.recentMessages(ROOM, 100))).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
      expect(await store.recentMessages(ROOM, 0)).toEqual([]);
      expect(await store.recentMessages("empty@rooms.test", 5)).toEqual([]);
    });

    test("getArchived finds a message by id; replaceArchived swaps its stanza, and an unknown id changes nothing", async () => {
      await archiveAll(six());
      expect(await store.getArchived(ROOM, "m3")).toEqual(message("m3", 30, "alice"));
      expect(await store.getArchived(ROOM, "nope")).toBeUndefined();
      store.replaceArchived(ROOM, "m3", "<message type='groupchat'><retracted/></message>");
      store.replaceArchived(ROOM, "nope", "<x/>");
      store.replaceArchived("empty@rooms.test", "m3", "<x/>");
      await store.commit();
      expect(await store.getArchived(ROOM, "m3")).toEqual({ ...message("m3", 30, "alice"), stanza: "<message type='groupchat'><retracted/></message>" });
      expect(await page({ max: 10 })).toEqual({ ids: ["m1", "m2", "m3", "m4", "m5", "m6"], count: 6, complete: true });
    });

    test("expireArchive deletes what is older than `before` in every room, batch by batch, and says how many went", async () => {
      const rooms = ["r1@rooms.test", "r2@rooms.test", "r3@rooms.test"];
      for (let i = 0; i < 2500; i++) store.archive(rooms[0]!, message(`a${i}`, i));
      for (let i = 0; i < 10; i++) store.archive(rooms[1]!, message(`b${i}`, i * 1000));
      store.archive(rooms[2]!, message("c", 5000));
      await store.commit();
      expect(await store.expireArchive(2100)).toBe(2100 + 3);
      expect(await store.queryArchive(rooms[0]!, { max: 1 })).toEqual({ found: true, messages: [message("a2100", 2100)], count: 400, complete: false });
      expect(ids(await store.recentMessages(rooms[1]!, 100))).toEqual(["b3", "b4", "b5", "b6", "b7", "b8", "b9"]);
      expect(await store.queryArchive(rooms[1]!, { max: 0 })).toMatchObject({ count: 7 });
      expect(await store.expireArchive(2100)).toBe(0);
      expect(await store.expireArchive(Number.MAX_SAFE_INTEGER)).toBe(400 + 7 + 1);
      expect(await store.queryArchive(rooms[0]!, { max: 5, before: "" })).toEqual({ found: true, messages: [], count: 0, complete: true });
      store.archive(rooms[0]!, message("again", 1));
      await store.commit();
      expect(await store.queryArchive(rooms[0]!, { max: 5 })).toEqual({ found: true, messages: [message("again", 1)], count: 1, complete: true });
    });

    test("a stanza-id already in the room is refused (at once or by its commit) with a StorageError; what was there stays", async () => {
      await archiveAll([message("m1", 10)]);
      const error = await refusal(async () => {
        store.archive(ROOM, message("m1", 20));
        await store.commit();
      });
      expect(error).toBeInstanceOf(StorageError);
      await store.commit();
      // The same id in another room is fine.
      await archiveAll([message("m1", 30)], "other@rooms.test");
      expect(await store.queryArchive(ROOM, { max: 10 })).toEqual({ found: true, messages: [message("m1", 10)], count: 1, complete: true });
      await archiveAll([message("m2", 40)]);
      expect(ids(await store.recentMessages(ROOM, 10))).toEqual(["m1", "m2"]);
    });
  });

  describe("commits and reads", () => {
    test("reads see writes not yet committed (read your writes)", async () => {
      store.putRoom(roomRecord(ROOM));
      store.putOccupant(ROOM, occupant("alice"));
      store.archive(ROOM, message("m1", 10));
      store.setMeta("secret", "s");
      expect((await store.loadRoom(ROOM))?.occupants).toEqual([occupant("alice")]);
      expect(await store.queryArchive(ROOM, { max: 5, before: "" })).toEqual({ found: true, messages: [message("m1", 10)], count: 1, complete: true });
      expect(await store.getMeta("secret")).toBe("s");
      store.archive(ROOM, message("m2", 20));
      store.removeOccupant(ROOM, "alice");
      expect(ids(await store.recentMessages(ROOM, 5))).toEqual(["m1", "m2"]);
      expect(await store.occupiedRooms()).toEqual([]);
      await store.commit();
    });

    test(target.kind === "postgres" ? "commit() answers with a promise" : "commit() is synchronous", async () => {
      store.setMeta("k", "v");
      const answer = store.commit();
      if (target.kind === "postgres") {
        expect(answer).toBeInstanceOf(Promise);
        await answer;
      } else {
        expect(answer).toBeUndefined();
      }
      expect(store.commit() instanceof Promise).toBe(target.kind === "postgres");
      await store.commit();
    });

    test("commits issued one after another without waiting settle in that order, and keep the writes' order", async () => {
      const settled: number[] = [];
      const commits: unknown[] = [];
      for (let i = 0; i < 30; i++) {
        store.setMeta("last", String(i));
        store.archive(ROOM, message(`m${i}`, 1000 - i)); // stamps backwards: order is the archive's, not time's
        if (i % 3 === 0) store.putOccupant(ROOM, occupant(`n${i}`));
        commits.push(Promise.resolve(store.commit()).then(() => settled.push(i)));
      }
      await Promise.all(commits);
      expect(settled).toEqual([...Array(30).keys()]);
      expect(await store.getMeta("last")).toBe("29");
      expect(ids(await store.recentMessages(ROOM, 100))).toEqual([...Array(30).keys()].map((i) => `m${i}`));
    });

    test("arguments are checked with a TypeError before anything is recorded", async () => {
      const bad: [string, () => unknown][] = [
        ["putRoom without jid", () => store.putRoom({ ...roomRecord(ROOM), jid: "" })],
        ["putRoom with data an array", () => store.putRoom({ ...roomRecord(ROOM), data: [] as unknown as Record<string, unknown> })],
        ["putRoom with a fractional createdAt", () => store.putRoom({ ...roomRecord(ROOM), createdAt: 1.5 })],
        ["setAffiliation none", () => store.setAffiliation(ROOM, "a@b", "none" as "member")],
        ["putOccupant without sessions", () => store.putOccupant(ROOM, occupant("alice", { sessions: [] }))],
        ["putOccupant with role owner", () => store.putOccupant(ROOM, occupant("alice", { role: "owner" as "visitor" }))],
        ["archive with a NUL in the stanza", () => store.archive(ROOM, { ...message("m1", 1), stanza: "<a>\0</a>" })],
        ["archive with a fractional stamp", () => store.archive(ROOM, message("m1", 1.5))],
        ["queryArchive with max -1", () => store.queryArchive(ROOM, { max: -1 })],
        ["queryArchive with an empty after", () => store.queryArchive(ROOM, { max: 1, after: "" })],
        ["recentMessages with limit 1.5", () => store.recentMessages(ROOM, 1.5)],
        ["listPublicRooms with limit -1", () => store.listPublicRooms({ limit: -1 })],
        ["setMeta with a number", () => store.setMeta("k", 5 as unknown as string)],
        ["loadRoom of an empty JID", () => store.loadRoom("")],
      ];
      for (const [what, call] of bad) {
        let thrown: unknown;
        try {
          call();
        } catch (error) {
          thrown = error;
        }
        expect({ what, error: thrown instanceof TypeError }).toEqual({ what, error: true });
      }
      await store.commit();
      expect(await store.loadRoom(ROOM)).toBeUndefined();
      expect(await store.queryArchive(ROOM, { max: 5 })).toMatchObject({ count: 0 });
    });

    test("a closed store refuses further use with a StorageError", async () => {
      await store.close();
      await store.close(); // twice is fine
      for (const call of [() => store.putRoom(roomRecord(ROOM)), () => store.loadRoom(ROOM), () => store.commit()]) {
        expect(await refusal(call)).toBeInstanceOf(StorageError);
      }
    });
  });

  if (persistent) describe("durability", () => {
    test("what was committed survives close and open: rooms, affiliations, registrations, occupants, archive, meta", async () => {
      store.putRoom(roomRecord(ROOM));
      store.setAffiliation(ROOM, "alice@users.test", "owner", "why");
      store.setRegistration(ROOM, "alice@users.test", "alice");
      store.putOccupant(ROOM, occupant("alice"));
      for (let i = 0; i < 5; i++) store.archive(ROOM, message(`m${i}`, i));
      store.setMeta("secret", "s3cret");
      await store.commit();
      await store.close();
      const again = await open();
      expect(await again.loadRoom(ROOM)).toEqual({
        record: roomRecord(ROOM),
        affiliations: [{ jid: "alice@users.test", affiliation: "owner", reason: "why" }],
        registrations: [{ jid: "alice@users.test", nick: "alice" }],
        occupants: [occupant("alice")],
      });
      expect(await again.queryArchive(ROOM, { max: 2, before: "" })).toEqual({ found: true, messages: [message("m3", 3), message("m4", 4)], count: 5, complete: false });
      expect(await again.getMeta("secret")).toBe("s3cret");
      // Archiving goes on after a reopen, in order, with the count kept.
      again.archive(ROOM, message("m5", 5));
      await again.commit();
      expect(await again.queryArchive(ROOM, { max: 1, before: "" })).toEqual({ found: true, messages: [message("m5", 5)], count: 6, complete: false });
    });

    test("close() commits what was written since the last commit", async () => {
      store.putRoom(roomRecord(ROOM));
      store.archive(ROOM, message("m1", 1));
      await store.close();
      const again = await open();
      expect((await again.loadRoom(ROOM))?.record).toEqual(roomRecord(ROOM));
      expect(ids(await again.recentMessages(ROOM, 5))).toEqual(["m1"]);
    });

    test("a process killed (SIGKILL) right after commit() loses nothing it committed and keeps nothing it did not", async () => {
      await store.close();
      const child = Bun.spawn([process.execPath, join(import.meta.dir, "crash-writer.ts"), db.url, "20"], { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect({ signal: child.signalCode, out: out.trim(), err }).toEqual({ signal: "SIGKILL", out: "committed-19", err: "" });
      const again = await open();
      const all = await again.queryArchive("crash@rooms.test", { max: 100 });
      expect(all.found && ids(all.messages)).toEqual([...Array(20).keys()].map((i) => `committed-${i}`));
      expect(await again.getArchived("crash@rooms.test", "uncommitted")).toBeUndefined();
    });
  });

  if (sqlStore) describe("schema migrations", () => {
    const probe: Migration = {
      version: LATEST + 1,
      description: "a later version (test)",
      sqlite: ["CREATE TABLE probe (x INTEGER)", "CREATE INDEX probe_x ON probe (x)"],
      postgres: ["CREATE TABLE probe (x integer)", "CREATE INDEX probe_x ON probe (x)"],
    };
    const versions = async () => (await db.sql!("SELECT version FROM schema_version ORDER BY version")).map((r) => Number(r.version));
    const laterVersions = async () => (await db.sql!("SELECT count(*) AS n FROM schema_version WHERE version > " + LATEST)).map((r) => Number(r.n))[0];

    test("a new database gets every step, each recorded in schema_version", async () => {
      expect(await versions()).toEqual(MIGRATIONS.map((m) => m.version));
      expect((store as unknown as { migration: unknown }).migration).toEqual({ from: 0, to: LATEST });
    });

    test("a database at an older version is brought up to date at open, keeping its data; one that is newer refuses to open", async () => {
      store.putRoom(roomRecord(ROOM));
      store.archive(ROOM, message("m1", 1));
      await store.close();
      const upgraded = await open(db, { migrations: [...MIGRATIONS, probe] });
      expect((upgraded as unknown as { migration: unknown }).migration).toEqual({ from: LATEST, to: LATEST + 1 });
      expect(await versions()).toEqual([...MIGRATIONS.map((m) => m.version), LATEST + 1]);
      expect(await db.sql!("SELECT count(*) AS n FROM probe")).toEqual([{ n: target.kind === "postgres" ? "0" : 0 }]);
      expect((await upgraded.loadRoom(ROOM))?.record).toEqual(roomRecord(ROOM));
      await upgraded.close();

      const expected = `storage schema version ${LATEST + 1} is newer than this mucgate (knows up to ${LATEST}); upgrade mucgate or restore a backup`;
      const error = await refusal(() => db.open());
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain(expected);
      const viaUrl = await refusal(() => openStorage(db.url, { logger: capturingLogger().logger }));
      expect((viaUrl as Error).message).toContain(expected);
      // Refusing changed nothing.
      expect(await versions()).toEqual([...MIGRATIONS.map((m) => m.version), LATEST + 1]);
    });

    test("a step that fails rolls the whole migration back", async () => {
      await store.close();
      const broken: Migration = { ...probe, sqlite: [probe.sqlite[0]!, "NOT SQL"], postgres: [probe.postgres[0]!, "NOT SQL"] };
      expect(await refusal(() => db.open({ migrations: [...MIGRATIONS, broken] }))).toBeInstanceOf(StorageError);
      expect(await laterVersions()).toBe(0);
      expect(await refusal(() => db.sql!("SELECT count(*) FROM probe"))).toBeDefined();
      // The database still opens, at the version it was.
      const again = await open();
      expect((again as unknown as { migration: unknown }).migration).toEqual({ from: LATEST, to: LATEST });
    });
  });

  describe("openStorage", () => {
    test("opens this kind from its URL and logs where (kind, path or host, port, database), never a password", async () => {
      const { logger, lines } = capturingLogger();
      const opened = await openStorage(db.url, { logger });
      try {
        expect(opened.kind).toBe(target.kind);
        const log = lines.join("");
        expect(log).toContain(`"kind":"${target.kind}"`);
        const url = URL.parse(db.url);
        if (url !== null && url.password !== "") expect(log).not.toContain(url.password);
        if (url !== null && url.password !== "") expect(log).toContain(`"port":${url.port}`);
      } finally {
        await opened.close();
      }
    });
  });

  describe("properties (fast-check)", () => {
    /** A fresh store per run, closed after it. */
    const withFreshStore = async (run: (store: Storage, database: SuiteDatabase) => Promise<void>) => {
      const database = await target.fresh();
      const s = await database.open();
      try {
        await run(s, database);
      } finally {
        await s.close().catch(() => {});
      }
    };

    test(
      "archive paging returns every matching message exactly once, in order, for any page size, forwards and backwards, with and without filters",
      async () => {
        const archiveArb = fc.record({
          messages: fc.array(fc.record({ stamp: fc.integer({ min: 0, max: 100 }), nick: fc.constantFrom("alice", "bob", "carol") }), { maxLength: 40 }),
          ordered: fc.boolean(),
          commitEvery: fc.integer({ min: 1, max: 50 }),
        });
        // Each filter in about one query of four, so that many pages have something on them.
        const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
        const filterArb = fc.record({
          start: sometimes(fc.integer({ min: 0, max: 100 })),
          end: sometimes(fc.integer({ min: 0, max: 100 })),
          with: sometimes(fc.constantFrom("alice", "bob", "alice", "zed").map((n) => `${ROOM}/${n}`)),
          afterId: sometimes(fc.nat({ max: 39 })),
          beforeId: sometimes(fc.nat({ max: 39 })),
          ids: sometimes(fc.uniqueArray(fc.nat({ max: 45 }), { maxLength: 20 })),
        });
        await fc.assert(
          fc.asyncProperty(archiveArb, filterArb, fc.integer({ min: 1, max: 8 }), async (archive, filter, max) => {
            await withFreshStore(async (s) => {
              const model = new StorageModel();
              let stamp = 0;
              const commits: unknown[] = [];
              archive.messages.forEach((m, i) => {
                stamp = archive.ordered ? stamp + (m.stamp % 5) : m.stamp;
                const msg = message(`id${i}`, stamp, m.nick);
                s.archive(ROOM, msg);
                model.archive(ROOM, msg);
                if ((i + 1) % archive.commitEvery === 0) commits.push(s.commit());
              });
              commits.push(s.commit());
              await Promise.all(commits);
              const n = archive.messages.length;
              // Positions must name archived messages: out-of-range ones are dropped (unknown ids have their own test).
              const at = (i: number | undefined) => (i === undefined || i >= n ? undefined : `id${i}`);
              const filters: ArchiveQuery = {
                max,
                start: filter.start,
                end: filter.end,
                with: filter.with,
                afterId: at(filter.afterId),
                beforeId: at(filter.beforeId),
                ids: filter.ids?.map((i) => `id${i}`),
              };
              const everything = model.queryArchive(ROOM, { ...filters, max: 1000 });
              const expected = everything.found ? ids(everything.messages) : [];

              const forwards: string[] = [];
              let after: string | undefined;
              for (let pages = 0; pages <= n + 1; pages++) {
                const query = { ...filters, after };
                const answer = await s.queryArchive(ROOM, query);
                expect(answer).toEqual(model.queryArchive(ROOM, query));
                if (!answer.found) throw new Error("unexpected unknown id");
                forwards.push(...ids(answer.messages));
                if (answer.complete) break;
                after = answer.messages.at(-1)!.id;
              }
              expect(forwards).toEqual(expected);

              const backwards: string[][] = [];
              let before = "";
              for (let pages = 0; pages <= n + 1; pages++) {
                const query = { ...filters, before };
                const answer = await s.queryArchive(ROOM, query);
                expect(answer).toEqual(model.queryArchive(ROOM, query));
                if (!answer.found) throw new Error("unexpected unknown id");
                backwards.unshift(ids(answer.messages));
                if (answer.complete) break;
                before = answer.messages[0]!.id;
              }
              expect(backwards.flat()).toEqual(expected);
            });
          }),
          { numRuns: target.runs },
        );
      },
      120_000,
    );

    test(
      "any sequence of writes, committed here and there, loads back as the model has it (and after a reopen)",
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(writeOp, { maxLength: 40 }), async (ops) => {
            await withFreshStore(async (s, database) => {
              const model = new StorageModel();
              const next = { id: 0 };
              for (const op of ops) await applyWrite(s, model, op, next);
              await s.commit();
              await checkEverything(s, model);
              if (!persistent) return;
              await s.close();
              const again = await database.open();
              try {
                await checkEverything(again, model);
              } finally {
                await again.close();
              }
            });
          }),
          { numRuns: target.runs },
        );
      },
      120_000,
    );

    test(
      "reads made between writes that are not committed yet see every one of them",
      async () => {
        const step = fc.oneof(
          writeOp.filter((op) => op.op !== "commit").map((write) => ({ write })),
          readOp.map((read) => ({ read })),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
            await withFreshStore(async (s) => {
              const model = new StorageModel();
              const next = { id: 0 };
              for (const st of steps) {
                if ("write" in st) await applyWrite(s, model, st.write, next);
                else await checkRead(s, model, st.read);
              }
              await checkEverything(s, model);
              await s.commit();
            });
          }),
          { numRuns: target.runs },
        );
      },
      120_000,
    );
  });
}
