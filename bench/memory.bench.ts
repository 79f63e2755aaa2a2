/**
 * Memory: heap and resident (RSS) bytes per occupant (100,000 occupants in 10,000 rooms, joined
 * through `MucService.handle` from stanzas parsed as the component connection
 * parses them) and per cached decision (a Gate from createGate filled with
 * 100,000 decisions, its default cache size).
 *
 * Each figure is the heap after a full GC minus the heap before (an empty
 * baseline), divided by the count. Next to each, the same count of the
 * smallest plain structure that holds the same facts, measured the same way
 * in the same process: the ratio is mucgate's overhead over "just the data".
 *
 *   ./node_modules/.bin/bun bench/memory.bench.ts
 */
import { Parser, type Element } from "@xmpp/xml";
import { createGate } from "../src/auth/create-gate.ts";
import type { Gate } from "../src/auth/gate.ts";
import type { AuthQuestion } from "../src/auth/types.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { MucService } from "../src/muc/service.ts";
import { benchConfig, DOMAIN } from "./support/config.ts";
import { assert, progress, runStandalone, type BenchResult } from "./support/report.ts";

const OCCUPANTS = 100_000;
const ROOMS = 10_000;
const DECISIONS = 100_000;

function heap(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

const roomOf = (i: number) => `room${i % ROOMS}@${DOMAIN}`;
const joinXml = (i: number) =>
  `<presence from='u${i}@users.bench/r' to='${roomOf(i)}/n${i}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`;

/** Stanzas as the component connection gets them: @xmpp/xml's stream parser. */
function streamParser(onStanza: (stanza: Element) => void): Parser {
  const parser = new Parser();
  parser.on("element", onStanza);
  parser.write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>");
  return parser;
}

/** Baseline: each occupant as one plain record in a Map per room, the same strings. */
function plainOccupants() {
  interface Plain {
    nick: string;
    jid: string;
    realJid: string;
    bare: string;
    role: string;
    affiliation: string;
  }
  const rooms = new Map<string, Map<string, Plain>>();
  for (let i = 0; i < OCCUPANTS; i++) {
    const room = roomOf(i);
    let nicks = rooms.get(room);
    if (!nicks) rooms.set(room, (nicks = new Map()));
    const nick = `n${i}`;
    nicks.set(nick, { nick, jid: `${room}/${nick}`, realJid: `u${i}@users.bench/r`, bare: `u${i}@users.bench`, role: "participant", affiliation: "none" });
  }
  return () => assert(rooms.size === ROOMS, "baseline holds every room");
}

function serviceOccupants() {
  const service = new MucService({ domain: DOMAIN, metrics: new Metrics(), logger: silentLogger });
  let out: Element[] = [];
  const parser = streamParser((stanza) => {
    service.handle(stanza, out);
    out = [];
  });
  for (let i = 0; i < OCCUPANTS; i++) parser.write(joinXml(i));
  return () => {
    assert(service.rooms.size === ROOMS, `${ROOMS} rooms (${service.rooms.size})`);
    assert(service.occupantCount === OCCUPANTS, `${OCCUPANTS} occupants (${service.occupantCount})`);
  };
}

const SEP = "\u0000";
// Distinct users, 10 per room: one decision each. The question strings are
// made inside the measured window (a parsed stanza's strings are what the
// cache keeps), so what the cache retains of them is counted.
const question = (i: number): AuthQuestion => ({ userJID: `u${i}@users.bench`, mucJID: roomOf(i), nickname: `n${i}` });

/** Baseline: the cache key of every decision in a Map. */
function plainDecisions() {
  const map = new Map<string, boolean>();
  for (let i = 0; i < DECISIONS; i++) {
    const q = question(i);
    map.set(q.userJID + SEP + q.mucJID + SEP + q.nickname, true);
  }
  return () => assert(map.size === DECISIONS, "baseline holds every decision");
}

async function gateDecisions() {
  // The gate with production defaults (cache 100,000) but a TTL the fill cannot
  // outlast on a slow machine (the TTL's value does not change what an entry
  // costs); the transport answers at once without a socket — what is cached
  // does not depend on it.
  const config = benchConfig({ muc_http_auth_cache_ttl: 3600 });
  const body = '{"allowed":true}';
  const fetch = async () => new Response(body, { headers: { "content-type": "application/json" } });
  const gate: Gate = createGate(config, { metrics: new Metrics(), logger: silentLogger, fetch });
  for (let start = 0; start < DECISIONS; start += 10_000) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < start + 10_000; i++) {
      const d = gate.decide(question(i));
      if (d instanceof Promise) batch.push(d);
    }
    await Promise.all(batch);
  }
  return () => {
    assert(gate.size === DECISIONS, `${DECISIONS} decisions cached (${gate.size})`);
    for (let i = 0; i < DECISIONS; i += 997) assert(!(gate.decide(question(i)) instanceof Promise), "decisions are cached");
  };
}

/** Each builds its structure and returns a check that keeps it reachable. */
const MEASUREMENTS = {
  plainOccupants: { count: OCCUPANTS, build: plainOccupants },
  serviceOccupants: { count: OCCUPANTS, build: serviceOccupants },
  plainDecisions: { count: DECISIONS, build: plainDecisions },
  gateDecisions: { count: DECISIONS, build: gateDecisions },
} satisfies Record<string, { count: number; build: () => (() => void) | Promise<() => void> }>;
type Measurement = keyof typeof MEASUREMENTS;

/**
 * Heap bytes per item in a process of its own: JSC's GC scans the stack
 * conservatively, so a structure measured earlier in the same process may
 * survive a `Bun.gc(true)` and die during the next measurement (seen: negative
 * figures).
 */
async function bytesPer(name: Measurement): Promise<{ heap: number; rss: number }> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--measure", name], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`memory measurement ${name} failed`);
  const [heapPer, rssPer] = text.trim().split(" ").map(Number);
  return { heap: heapPer!, rss: rssPer! };
}

async function measureHere(name: Measurement): Promise<void> {
  const { count, build } = MEASUREMENTS[name];
  const before = heap();
  const rssBefore = process.memoryUsage().rss;
  const check = await build();
  await Bun.sleep(0);
  const after = heap();
  // Resident memory after the same full GC: what the operator's `ps` shows (issue 13: heap alone hid 8× more).
  const rssAfter = process.memoryUsage().rss;
  check();
  process.stdout.write(`${(after - before) / count} ${(rssAfter - rssBefore) / count}\n`);
}

export async function memoryBench(): Promise<BenchResult> {
  progress(`${OCCUPANTS.toLocaleString()} occupants in ${ROOMS.toLocaleString()} rooms, ${DECISIONS.toLocaleString()} cached decisions (one process each)`);
  const o = { plain: await bytesPer("plainOccupants"), service: await bytesPer("serviceOccupants") };
  const d = { plain: await bytesPer("plainDecisions"), gate: await bytesPer("gateDecisions") };
  return {
    title: "Memory — heap bytes per item (full GC, after − before, ÷ count)",
    rows: [
      {
        figure: `per occupant (${OCCUPANTS.toLocaleString()} in ${ROOMS.toLocaleString()} rooms)`,
        value: o.service.heap,
        unit: "B",
        baseline: { name: "plain record in Map per room", value: o.plain.heap },
        target: { op: "<=", value: 2048 },
      },
      {
        figure: `RSS per occupant (${OCCUPANTS.toLocaleString()} in ${ROOMS.toLocaleString()} rooms)`,
        value: o.service.rss,
        unit: "B",
        baseline: { name: "plain record in Map per room", value: o.plain.rss },
        target: { op: "<=", value: 4096 },
      },
      {
        figure: `per cached decision (${DECISIONS.toLocaleString()})`,
        value: d.gate.heap,
        unit: "B",
        baseline: { name: "Map<key, true>, same keys", value: d.plain.heap },
        target: { op: "<=", value: 300 },
      },
    ],
    notes: [
      "Heap = process.memoryUsage().heapUsed after two Bun.gc(true), before and after building; each of the four measurements runs in a fresh process.",
      "RSS = process.memoryUsage().rss at the same two moments: heap plus what the allocator keeps and the JIT's code, as the operating system counts it.",
      "Decisions: the gate with its default question budget (muc_http_auth_max_requests_per_user = 120), so 100,000 users asking within one minute also count their budget entry.",
      "Occupants join through @xmpp/xml's stream parser → MucService.handle, so each keeps the presence Element it joined with, as in production.",
      "Decisions: 100,000 distinct users (10 per room), one decision each, through createGate (AuthClient, lru-cache, indexes) with an in-memory fetch.",
    ],
  };
}

if (import.meta.main) {
  const at = process.argv.indexOf("--measure");
  if (at === -1) await runStandalone(memoryBench);
  else await measureHere(process.argv[at + 1] as Measurement);
}
