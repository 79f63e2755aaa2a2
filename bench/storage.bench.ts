/**
 * Storage (issue 10, "Performance"): what persistence and the archive cost,
 * each figure next to a baseline measured in this process during this run.
 *
 *  1. Groupchat messages/s into rooms of 10 with archiving on vs off, on the
 *     same SQLite file, in process: MucService.handle with the recorder
 *     subscribed, one storage commit per 100 messages (the outbox commits once
 *     per event-loop turn). Beside it a bare `bun:sqlite` insert of the same
 *     rows (same size, same table and indexes) in transactions of 100.
 *  2. Warm joins/s (each followed by its leave) with the recorder on SQLite vs
 *     on memory storage: persistent rooms of 10, already stored and in memory.
 *  3. A MAM page of 50 from a room with 1,000,000 archived messages: p99 of
 *     `queryArchive` (query only, in process) on SQLite and PostgreSQL, at
 *     random positions (after a random id; every 10th the last page), against
 *     the same page by bare SQL on the same database.
 *  4. Start-up with 100,000 persistent rooms stored: openStorage → meta secret
 *     → occupiedRooms() → MucService + RoomLoader → first disco#items page
 *     (listPublicRooms), against the same steps on an empty database.
 *  5. Restoring 10,000 occupants (1,000 rooms × 10, sessions, presence and 20
 *     messages of history each): openStorage → occupiedRooms → RoomLoader.prepare
 *     for each, against the same 10,000 joins made live through MucService.handle.
 *
 *   ./node_modules/.bin/bun bench/storage.bench.ts [--part 1,3] [--no-postgres]
 */
import { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import xml, { type Element } from "@xmpp/xml";
import { SQL } from "bun";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { recorder } from "../src/muc/recorder.ts";
import type { RoomConfig } from "../src/muc/room-config.ts";
import { roomRecord } from "../src/muc/room-record.ts";
import { MucService } from "../src/muc/service.ts";
import { newId } from "../src/ids.ts";
import type { ArchiveQuery, Storage } from "../src/muc/storage.ts";
import { RoomLoader } from "../src/room-loader.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { openStorage } from "../src/storage/open-storage.ts";
import { startPostgres, type PostgresServer } from "../test/e2e/harness/postgres.ts";
import { DOMAIN } from "./support/config.ts";
import { assert, median, progress, quantile, runStandalone, type BenchResult, type Row } from "./support/report.ts";

const MUC = "http://jabber.org/protocol/muc";
const BODY = "Hello, room! <3 & a few more words to make it a typical chat line.";
/** What Gajim sends in its presence: entity caps and a vCard avatar hash. */
const PRESENCE_PAYLOAD = () => [
  xml("c", { xmlns: "http://jabber.org/protocol/caps", hash: "sha-1", node: "https://gajim.org", ver: "q07IKJEyjvHSyhy//CH0CxmKi8w=" }),
  xml("x", { xmlns: "vcard-temp:x:update" }, xml("photo", {}, "01b87fcd030b72895ff8e88db57ec525450f000d")),
];

const BATCH = 100;
const ROUNDS = 3;

// 1 — messages
const MSG_ROOMS = 100;
const MSG_PER_ROUND = 20_000;
/** A second commit size, to show how much of the archive's cost is per commit. */
const BIG_BATCH = 1_000;
// 2 — warm joins
const JOIN_ROOMS = 1_000;
const JOINERS = 9; // + 1 resident = rooms of 10
// 3 — MAM
const ARCHIVED = 1_000_000;
const FILL_BATCH = 10_000;
const QUERIES = 500;
const WARMUP_QUERIES = 50;
const PAGE = 50;
// 4 — start-up
const STORED_ROOMS = 100_000;
const STARTS = 5;
// 5 — restore
const RESTORE_ROOMS = 1_000;
const RESTORE_PER_ROOM = 10;
const HISTORY = 20;

const realJid = (i: number) => `u${i}@users.bench/gajim.${i % 7}`;
const rid = (prefix: string, i: number) => `${prefix}${i}@${DOMAIN}`;
const ms = (t0: number) => performance.now() - t0;

function serviceWith(defaults: Partial<RoomConfig>, secret = "bench-secret"): MucService {
  return new MucService({
    domain: DOMAIN,
    metrics: new Metrics(),
    logger: silentLogger,
    secret,
    roomDefaults: { ...defaultsOf(), ...defaults },
    newId, // as src/mucgate.ts: the archive's key order is part of its cost
  });
}

function defaultsOf(): RoomConfig {
  // DEFAULT_ROOM_CONFIG through a throwaway service, so the bench follows the core's defaults.
  return new MucService({ domain: DOMAIN }).openRoom(`defaults@${DOMAIN}`, [])!.config;
}

function join(service: MucService, from: string, room: string, nick: string, payload: Element[] = []): void {
  const out: Element[] = [];
  const later = service.handle(xml("presence", { from, to: `${room}/${nick}` }, xml("x", { xmlns: MUC }), ...payload), out);
  assert(later === undefined && out.length > 0 && out.every((s) => s.attrs.type !== "error"), `join ${room}/${nick} answered at once without error`);
}

function leave(service: MucService, from: string, room: string, nick: string): void {
  const out: Element[] = [];
  service.handle(xml("presence", { from, to: `${room}/${nick}`, type: "unavailable" }), out);
}

function say(service: MucService, from: string, room: string, id: string, body = BODY): Element[] {
  const out: Element[] = [];
  service.handle(xml("message", { type: "groupchat", from, to: room, id }, xml("body", {}, body)), out);
  return out;
}

interface Dbs {
  dir: string;
  pg: PostgresServer | undefined;
  /** A storage URL for a new, empty database of `kind`. */
  fresh(kind: "sqlite" | "postgres", name: string): Promise<string>;
}

// --- 1. messages/s, archiving on vs off ----------------------------------------------------

async function messages(dbs: Dbs): Promise<Row[]> {
  const url = await dbs.fresh("sqlite", "messages");
  const storage = await openStorage(url, { logger: silentLogger });
  const on = serviceWith({ archiving: true });
  const off = serviceWith({ archiving: false });
  on.subscribe(recorder(storage));
  off.subscribe(recorder(storage));
  for (const [service, prefix] of [[on, "on"], [off, "off"]] as const) {
    for (let r = 0; r < MSG_ROOMS; r++) for (let k = 0; k < 10; k++) join(service, realJid(r * 10 + k), rid(prefix, r), `n${k}`);
  }
  await storage.commit();
  assert(on.occupantCount === MSG_ROOMS * 10 && off.occupantCount === MSG_ROOMS * 10, "rooms of 10");

  const check = say(on, realJid(0), rid("on", 0), "check");
  assert(check.length === 10 && check[0]!.getChild("stanza-id", "urn:xmpp:sid:0"), "archived: 10 copies with a stanza-id");
  assert(!say(off, realJid(0), rid("off", 0), "check")[0]!.getChild("stanza-id", "urn:xmpp:sid:0"), "not archived: no stanza-id");
  await storage.commit();
  const stored = (await storage.recentMessages(rid("on", 0), 1))[0]!;
  const storedStanza = stored.stanza;

  let seq = 0;
  const run = async (service: MucService, prefix: string, batch = BATCH): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < MSG_PER_ROUND; i++) {
      const r = i % MSG_ROOMS;
      const k = (i / MSG_ROOMS) % 10 | 0;
      const out = say(service, realJid(r * 10 + k), rid(prefix, r), `m${++seq}`);
      if (out.length !== 10) throw new Error(`message fanned out to ${out.length}`);
      if ((i + 1) % batch === 0) await storage.commit();
    }
    await storage.commit();
    return (MSG_PER_ROUND * 1000) / ms(t0);
  };

  // The baseline: bare bun:sqlite, the archive's own table and indexes, the same rows.
  const bare = new Database(pathJoin(dbs.dir, "bare-insert.sqlite"), { create: true, strict: true });
  bare.run("PRAGMA journal_mode = WAL");
  bare.run("PRAGMA synchronous = NORMAL");
  for (const ddl of MIGRATIONS[0]!.sqlite) if (/archive\b/.test(ddl) && !ddl.includes("archive_rooms")) bare.run(ddl);
  const insert = bare.prepare("INSERT INTO archive (room_id, id, stamp, sender, bare, stanza) VALUES (?, ?, ?, ?, ?, ?)");
  const senders = Array.from({ length: 10 }, (_, k) => `${rid("on", 0)}/n${k}`);
  const bares = Array.from({ length: 10 }, (_, k) => realJid(k).split("/")[0]!);
  const bareRun = (batch = BATCH): number => {
    const t0 = performance.now();
    for (let i = 0; i < MSG_PER_ROUND; i += batch) {
      bare.run("BEGIN IMMEDIATE");
      for (let j = i; j < i + batch; j++) insert.run(1 + (j % MSG_ROOMS), newId(), Date.now(), senders[j % 10]!, bares[j % 10]!, storedStanza);
      bare.run("COMMIT");
    }
    return (MSG_PER_ROUND * 1000) / ms(t0);
  };

  progress(`messages: ${MSG_PER_ROUND.toLocaleString()} per round into ${MSG_ROOMS} rooms of 10, archiving on / off / bare insert, then on and bare per ${BIG_BATCH}, ${ROUNDS} alternating rounds`);
  await run(on, "on");
  await run(off, "off");
  bareRun();
  const onRate: number[] = [];
  const offRate: number[] = [];
  const bareRate: number[] = [];
  const onBig: number[] = [];
  const bareBig: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    onRate.push(await run(on, "on"));
    offRate.push(await run(off, "off"));
    bareRate.push(bareRun());
    onBig.push(await run(on, "on", BIG_BATCH));
    bareBig.push(bareRun(BIG_BATCH));
  }
  const archived = await storage.queryArchive(rid("on", 0), { max: 0 });
  assert(archived.found && archived.count === 1 + ((2 * ROUNDS + 1) * MSG_PER_ROUND) / MSG_ROOMS, `every message archived (${archived.found && archived.count})`);
  bare.close();
  await storage.close();
  const onMedian = median(onRate);
  const offMedian = median(offRate);
  return [
    {
      figure: "groupchat msgs/s, rooms of 10, archiving on (SQLite, in process, no socket)",
      value: onMedian,
      unit: "/s",
      baseline: { name: "archiving off, same SQLite", value: offMedian },
      target: { op: ">=", value: 0.8 * offMedian },
    },
    {
      figure: "… the same archived msgs/s vs bare bun:sqlite inserts",
      value: onMedian,
      unit: "/s",
      baseline: { name: `bare insert, same rows, ${BATCH}/txn`, value: median(bareRate) },
    },
    {
      figure: `… archiving on, one commit per ${BIG_BATCH.toLocaleString()} messages instead of ${BATCH}`,
      value: median(onBig),
      unit: "/s",
      baseline: { name: "archiving off, same SQLite", value: offMedian },
    },
    {
      figure: `… bare bun:sqlite insert, ${BIG_BATCH.toLocaleString()} rows per transaction`,
      value: median(bareBig),
      unit: "/s",
      baseline: { name: "archiving off, same SQLite", value: offMedian },
    },
  ];
}

// --- 2. warm joins/s, SQLite vs memory -------------------------------------------------

async function warmJoins(dbs: Dbs): Promise<Row[]> {
  const setups = [] as { service: MucService; loader: RoomLoader; storage: Storage }[];
  for (const url of ["memory", await dbs.fresh("sqlite", "joins")]) {
    const storage = await openStorage(url, { logger: silentLogger });
    const service = serviceWith({ persistent: true });
    service.subscribe(recorder(storage));
    const loader = new RoomLoader({ service, source: storage, logger: silentLogger });
    // One resident per room keeps it in memory (a persistent room leaves memory when empty).
    for (let r = 0; r < JOIN_ROOMS; r++) join(service, realJid(r * 100), rid("warm", r), "resident");
    await storage.commit();
    setups.push({ service, loader, storage });
  }
  const [memory, sqlite] = setups as [(typeof setups)[0], (typeof setups)[0]];

  const joins = JOIN_ROOMS * JOINERS;
  const run = async ({ service, loader, storage }: (typeof setups)[0]): Promise<number> => {
    let stanzas = 0;
    const t0 = performance.now();
    for (const leaving of [false, true]) {
      for (let k = 1; k <= JOINERS; k++) {
        for (let r = 0; r < JOIN_ROOMS; r++) {
          const room = rid("warm", r);
          if (loader.prepare(room) !== true) throw new Error("room not in memory");
          if (leaving) leave(service, realJid(r * 100 + k), room, `n${k}`);
          else join(service, realJid(r * 100 + k), room, `n${k}`);
          if (++stanzas % BATCH === 0) await storage.commit();
        }
      }
      if (!leaving) assert(service.occupantCount === JOIN_ROOMS * (JOINERS + 1), "rooms of 10");
    }
    await storage.commit();
    assert(service.occupantCount === JOIN_ROOMS && service.rooms.size === JOIN_ROOMS, "back to the residents");
    return (joins * 1000) / ms(t0);
  };
  progress(`warm joins: ${joins.toLocaleString()} joins then their leaves in ${JOIN_ROOMS.toLocaleString()} persistent rooms of 10, memory / SQLite, ${ROUNDS} alternating rounds`);
  await run(memory);
  await run(sqlite);
  const m: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    m.push(await run(memory));
    s.push(await run(sqlite));
  }
  const stored = await sqlite.storage.loadRoom(rid("warm", 0));
  assert(stored && stored.record.persistent && stored.occupants.length === 1, "stored persistent room with its resident");
  for (const { storage } of setups) await storage.close();
  const base = median(m);
  return [
    {
      figure: "warm joins/s (+ leave), rooms of 10, recorder on SQLite (in process)",
      value: median(s),
      unit: "/s",
      baseline: { name: "recorder on memory storage", value: base },
      target: { op: ">=", value: 0.95 * base },
    },
  ];
}

// --- 3. MAM page of 50 from 1,000,000 ------------------------------------------------

interface Filled {
  storage: Storage;
  /** Every 100th id, in archive order. */
  sample: string[];
  fillMs: number;
}

const BIG = `big@${DOMAIN}`;
const stanzaOf = (i: number) =>
  `<message type="groupchat" id="m${i}" from="${BIG}/n${i % 10}"><body>${BODY.replaceAll("&", "&amp;").replaceAll("<", "&lt;")}</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ${i % 10}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"/></message>`;

async function fillArchive(url: string): Promise<Filled> {
  const storage = await openStorage(url, { logger: silentLogger });
  const sample: string[] = [];
  const start = Date.parse("2026-01-01T00:00:00Z");
  const t0 = performance.now();
  for (let i = 0; i < ARCHIVED; i++) {
    const id = randomUUID();
    if (i % 100 === 0) sample.push(id);
    storage.archive(BIG, { id, stamp: start + i * 100, from: `${BIG}/n${i % 10}`, bare: `u${i % 10}@users.bench`, stanza: stanzaOf(i) });
    if ((i + 1) % FILL_BATCH === 0) await storage.commit();
  }
  await storage.commit();
  return { storage, sample, fillMs: ms(t0) };
}

/** p99 (and p50) in ms of `QUERIES` pages at random positions, after a warm-up. */
async function pages(page: (q: { after?: string; before?: string }) => Promise<number> | number, sample: readonly string[]): Promise<number[]> {
  // Deterministic positions, the same for both sides; never within a page of the end.
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  const times: number[] = [];
  for (let q = 0; q < WARMUP_QUERIES + QUERIES; q++) {
    const query = q % 10 === 9 ? { before: "" } : { after: sample[next() % (sample.length - 1)]! };
    const t0 = performance.now();
    const n = await page(query);
    const t = ms(t0);
    if (n !== PAGE) throw new Error(`a page of ${n}`);
    if (q >= WARMUP_QUERIES) times.push(t);
  }
  return times;
}

async function mam(dbs: Dbs, kind: "sqlite" | "postgres"): Promise<{ rows: Row[]; notes: string[] }> {
  const url = await dbs.fresh(kind, "mam");
  progress(`MAM on ${kind}: filling ${ARCHIVED.toLocaleString()} messages through the port (${FILL_BATCH.toLocaleString()} per commit)`);
  const { storage, sample, fillMs } = await fillArchive(url);
  const all = await storage.queryArchive(BIG, { max: 0 });
  assert(all.found && all.count === ARCHIVED, `${ARCHIVED} archived (${all.found && all.count})`);

  const viaPort = async (q: { after?: string; before?: string }) => {
    const answer = await storage.queryArchive(BIG, { max: PAGE, ...q } satisfies ArchiveQuery);
    if (!answer.found) throw new Error("unknown id");
    return answer.messages.length;
  };

  // The baseline: the same page by bare SQL — the id's seq, then the page — on its own connection.
  let bare: (q: { after?: string; before?: string }) => Promise<number> | number;
  let closeBare: () => Promise<void> | void;
  const cols = "id, stamp, sender, bare, stanza";
  if (kind === "sqlite") {
    const db = new Database(url.slice("sqlite:".length), { readonly: true });
    const roomId = (db.query("SELECT id FROM archive_rooms WHERE room = ?").get(BIG) as { id: number }).id;
    const seqOf = db.query("SELECT seq FROM archive WHERE room_id = ? AND id = ?");
    const after = db.query(`SELECT ${cols} FROM archive WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?`);
    const last = db.query(`SELECT ${cols} FROM archive WHERE room_id = ? ORDER BY seq DESC LIMIT ?`);
    bare = (q) => {
      if (q.after === undefined) return Math.min(PAGE, last.all(roomId, PAGE + 1).length);
      const { seq } = seqOf.get(roomId, q.after) as { seq: number };
      return Math.min(PAGE, after.all(roomId, seq, PAGE + 1).length);
    };
    closeBare = () => db.close();
  } else {
    const u = new URL(url);
    const sql = new SQL({ adapter: "postgres", hostname: u.hostname, port: Number(u.port), username: u.username, password: decodeURIComponent(u.password), database: u.pathname.slice(1), max: 1 });
    const [{ id: roomId }] = (await sql`SELECT id FROM archive_rooms WHERE room = ${BIG}`) as [{ id: string }];
    bare = async (q) => {
      if (q.after === undefined) return Math.min(PAGE, (await sql.unsafe(`SELECT ${cols} FROM archive WHERE room_id = $1 ORDER BY seq DESC LIMIT $2`, [roomId, PAGE + 1])).length);
      const [{ seq }] = (await sql.unsafe("SELECT seq FROM archive WHERE room_id = $1 AND id = $2", [roomId, q.after])) as [{ seq: string }];
      return Math.min(PAGE, (await sql.unsafe(`SELECT ${cols} FROM archive WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [roomId, seq, PAGE + 1])).length);
    };
    closeBare = () => sql.close();
  }
  progress(`MAM on ${kind}: ${QUERIES} pages of ${PAGE} via queryArchive and via bare SQL, twice each, alternating`);
  const port: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < 2; r++) {
    port.push(...(await pages(viaPort, sample)));
    base.push(...(await pages(bare, sample)));
  }
  port.sort((a, b) => a - b);
  base.sort((a, b) => a - b);
  await closeBare();
  await storage.close();
  const name = kind === "sqlite" ? "SQLite" : "PostgreSQL";
  const rows: Row[] = [
    {
      figure: `MAM page of ${PAGE} from ${ARCHIVED.toLocaleString()}, p99, ${name} (queryArchive, in process)`,
      value: quantile(port, 0.99),
      unit: "ms",
      baseline: { name: `bare SQL, same pages (${name})`, value: quantile(base, 0.99) },
      target: { op: "<", value: kind === "sqlite" ? 5 : 15 },
    },
  ];
  return {
    rows,
    notes: [`${name}: ${ARCHIVED.toLocaleString()} messages filled through the port (archive() + commit() per ${FILL_BATCH.toLocaleString()}) in ${(fillMs / 1000).toFixed(1)} s; queryArchive p50 ${quantile(port, 0.5).toFixed(2)} ms (bare SQL ${quantile(base, 0.5).toFixed(2)} ms), max ${port.at(-1)!.toFixed(1)} ms.`],
  };
}

// --- 4. start-up with 100,000 stored rooms ----------------------------------------------

/** openStorage → secret → occupied rooms → service → loader → first disco#items page; ms. */
async function startUp(url: string): Promise<{ ms: number; total: number; listed: number }> {
  const t0 = performance.now();
  const storage = await openStorage(url, { logger: silentLogger });
  const secret = await storage.getMeta("service-secret");
  const occupied = await storage.occupiedRooms();
  const service = new MucService({ domain: DOMAIN, secret, metrics: new Metrics(), logger: silentLogger, roomDefaults: defaults });
  service.subscribe(recorder(storage));
  const loader = new RoomLoader({ service, source: storage, logger: silentLogger });
  for (const jid of occupied) await loader.prepare(jid);
  const first = await storage.listPublicRooms({ limit: 50 });
  const elapsed = ms(t0);
  await storage.close();
  return { ms: elapsed, total: first.total, listed: first.rooms.length };
}
let defaults: RoomConfig;

async function fillRooms(url: string): Promise<number> {
  // One real room's record (named, with a subject), copied under 100,000 JIDs.
  const service = serviceWith({ persistent: true });
  const out: Element[] = [];
  join(service, realJid(0), `model@${DOMAIN}`, "owner");
  service.handle(xml("message", { type: "groupchat", from: realJid(0), to: `model@${DOMAIN}` }, xml("subject", {}, "Welcome to the room")), out);
  const model = roomRecord(service.room(`model@${DOMAIN}`)!);
  const storage = await openStorage(url, { logger: silentLogger });
  storage.setMeta("service-secret", "bench-secret");
  const t0 = performance.now();
  for (let i = 0; i < STORED_ROOMS; i++) {
    storage.putRoom({ ...model, jid: rid("stored", i), name: `Room number ${i}` });
    storage.setAffiliation(rid("stored", i), `u${i}@users.bench`, "owner");
    if ((i + 1) % FILL_BATCH === 0) await storage.commit();
  }
  await storage.commit();
  const fill = ms(t0);
  await storage.close();
  return fill;
}

async function startUps(dbs: Dbs, kind: "sqlite" | "postgres"): Promise<{ rows: Row[]; notes: string[] }> {
  defaults = { ...defaultsOf(), persistent: true };
  const full = await dbs.fresh(kind, "rooms");
  const empty = await dbs.fresh(kind, "empty");
  progress(`start-up on ${kind}: storing ${STORED_ROOMS.toLocaleString()} persistent rooms`);
  const fillMs = await fillRooms(full);
  await (await openStorage(empty, { logger: silentLogger })).close();
  progress(`start-up on ${kind}: ${STARTS} starts on ${STORED_ROOMS.toLocaleString()} rooms and on an empty database, alternating`);
  const f: number[] = [];
  const e: number[] = [];
  for (let r = 0; r < STARTS; r++) {
    const a = await startUp(full);
    assert(a.total === STORED_ROOMS && a.listed === 50, `${STORED_ROOMS} listed (${a.total})`);
    f.push(a.ms);
    e.push((await startUp(empty)).ms);
  }
  const name = kind === "sqlite" ? "SQLite" : "PostgreSQL";
  return {
    rows: [
      {
        figure: `start-up with ${STORED_ROOMS.toLocaleString()} stored rooms to ready, ${name}`,
        value: median(f),
        unit: "ms",
        baseline: { name: "same steps, empty database", value: median(e) },
        target: { op: "<", value: 2000 },
      },
    ],
    notes: [`${name}: ${STORED_ROOMS.toLocaleString()} rooms (record + owner) stored in ${(fillMs / 1000).toFixed(1)} s; start-up median of ${STARTS}, database files in the page cache.`],
  };
}

// --- 5. restoring 10,000 occupants ------------------------------------------------------

const restoreJid = (r: number, k: number) => `u${r * RESTORE_PER_ROOM + k}@users.bench/gajim.${k}`;

/** The same joins, live: a new service in memory, `RESTORE_ROOMS × RESTORE_PER_ROOM` presences; ms. */
function liveJoins(storage?: Storage): { ms: number; service: MucService } {
  const service = serviceWith({ persistent: true });
  if (storage) service.subscribe(recorder(storage));
  const t0 = performance.now();
  for (let r = 0; r < RESTORE_ROOMS; r++) for (let k = 0; k < RESTORE_PER_ROOM; k++) join(service, restoreJid(r, k), rid("occ", r), `nick${k}`, PRESENCE_PAYLOAD());
  return { ms: ms(t0), service };
}

async function restore(dbs: Dbs, kind: "sqlite" | "postgres"): Promise<{ rows: Row[] }> {
  const url = await dbs.fresh(kind, "occupants");
  progress(`restore on ${kind}: storing ${(RESTORE_ROOMS * RESTORE_PER_ROOM).toLocaleString()} occupants in ${RESTORE_ROOMS.toLocaleString()} rooms with ${HISTORY} messages each`);
  {
    const storage = await openStorage(url, { logger: silentLogger });
    const { service } = liveJoins(storage);
    for (let r = 0; r < RESTORE_ROOMS; r++) for (let m = 0; m < HISTORY; m++) say(service, restoreJid(r, m % RESTORE_PER_ROOM), rid("occ", r), `h${m}`);
    await storage.commit();
    await storage.close();
  }
  const restoreOnce = async (): Promise<number> => {
    const t0 = performance.now();
    const storage = await openStorage(url, { logger: silentLogger });
    const service = serviceWith({ persistent: true });
    service.subscribe(recorder(storage));
    const loader = new RoomLoader({ service, source: storage, logger: silentLogger });
    const occupied = await storage.occupiedRooms();
    for (const jid of occupied) if ((await loader.prepare(jid)) !== true) throw new Error(`${jid} not restored`);
    const elapsed = ms(t0);
    assert(service.occupantCount === RESTORE_ROOMS * RESTORE_PER_ROOM, `${RESTORE_ROOMS * RESTORE_PER_ROOM} restored (${service.occupantCount})`);
    const room = service.room(rid("occ", 0))!;
    assert(room.occupants.get("nick3")!.payload.length === 2, "presence payload restored");
    await storage.close();
    return elapsed;
  };
  progress(`restore on ${kind}: ${STARTS} restores, alternating with the same joins made live`);
  const restoreMs: number[] = [];
  const liveMs: number[] = [];
  for (let r = 0; r < STARTS; r++) {
    restoreMs.push(await restoreOnce());
    liveMs.push(liveJoins().ms);
  }
  const name = kind === "sqlite" ? "SQLite" : "PostgreSQL";
  return {
    rows: [
      {
        figure: `restore ${(RESTORE_ROOMS * RESTORE_PER_ROOM).toLocaleString()} occupants (${RESTORE_ROOMS.toLocaleString()} rooms × ${RESTORE_PER_ROOM}), ${name}`,
        value: median(restoreMs),
        unit: "ms",
        baseline: { name: "same joins live via handle (memory)", value: median(liveMs) },
        target: { op: "<", value: 5000 },
      },
    ],
  };
}

// --- the bench -------------------------------------------------------------------------------

export async function storageBench(): Promise<BenchResult> {
  const at = process.argv.indexOf("--part");
  const parts = at === -1 ? [1, 2, 3, 4, 5] : process.argv[at + 1]!.split(",").map(Number);
  const withPostgres = !process.argv.includes("--no-postgres");
  const dir = mkdtempSync(pathJoin(tmpdir(), "mucgate-storage-bench-"));
  let pg: PostgresServer | undefined;
  const rows: Row[] = [];
  const notes: string[] = [];
  const started = performance.now();
  try {
    if (withPostgres && parts.some((p) => p >= 3)) {
      progress("starting a private PostgreSQL (durable: fsync on)");
      pg = await startPostgres({ durable: true });
    }
    let n = 0;
    const dbs: Dbs = {
      dir,
      pg,
      async fresh(kind, name) {
        if (kind === "sqlite") return `sqlite:${pathJoin(dir, `${name}-${++n}.sqlite`)}`;
        return pg!.createDatabase();
      },
    };
    const kinds: ("sqlite" | "postgres")[] = pg ? ["sqlite", "postgres"] : ["sqlite"];
    if (parts.includes(1)) rows.push(...(await messages(dbs)));
    if (parts.includes(2)) rows.push(...(await warmJoins(dbs)));
    const perStore: [number, (dbs: Dbs, kind: "sqlite" | "postgres") => Promise<{ rows: Row[]; notes?: string[] }>][] = [
      [3, mam],
      [4, startUps],
      [5, restore],
    ];
    for (const [part, measure] of perStore) {
      if (!parts.includes(part)) continue;
      for (const kind of kinds) {
        const result = await measure(dbs, kind);
        rows.push(...result.rows);
        notes.push(...(result.notes ?? []));
      }
    }
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: "Storage — archive, joins, MAM paging, start-up and restore on SQLite and PostgreSQL (in process, no socket)",
    rows,
    notes: [
      `SQLite: bun:sqlite file in ${tmpdir()}, WAL, synchronous NORMAL (the default). PostgreSQL: a private server (test/e2e/harness/postgres.ts) with fsync and synchronous_commit on.`,
      `Messages and joins: MucService.handle with recorder(storage) subscribed, storage.commit() after every ${BATCH} stanzas; median of ${ROUNDS} alternating rounds. Targets for these two are ratios of the baseline (0.8×, 0.95×).`,
      `MAM: ${QUERIES} pages after ${WARMUP_QUERIES} warm-up, 9 in 10 after a random id, 1 in 10 the last page (before ""); 2 alternating sets of each, p99 over both (${2 * QUERIES} queries); the baseline runs the id lookup and the page as bare SQL on its own connection.`,
      ...notes,
      `Whole bench: ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    ],
  };
}

if (import.meta.main) await runStandalone(storageBench);
