/**
 * Gate micro-benchmark (src/auth/gate.ts through createGate, as production
 * builds it): how many join decisions per second the gate hands out
 *
 *  - from its cache (the warm join path; synchronous, no promise),
 *  - for 10,000 concurrent identical questions (coalesced into one request —
 *    asserted before anything is timed),
 *  - fresh, one at a time and 10,000 distinct at once,
 *
 * each next to what the same work costs without the gate, measured in the
 * same run: a `Map.get` / an lru-cache `get` for hits, the bare `fetch` round
 * trip to the same in-process HTTP server for misses.
 *
 *   ./node_modules/.bin/bun bench/gate.bench.ts
 */
import { LRUCache } from "lru-cache";
import { measure } from "mitata";
import pLimit from "p-limit";
import { createGate } from "../src/auth/create-gate.ts";
import type { Gate } from "../src/auth/gate.ts";
import type { AuthQuestion, Decision } from "../src/auth/types.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { bareFetch, startAuthServer, type AuthServer } from "./support/auth-server.ts";
import { benchConfig } from "./support/config.ts";
import { assert, median, progress, runStandalone, type BenchResult, type Row } from "./support/report.ts";

/** Distinct cached questions the hit loop walks through (more than fit in L1, as in production). */
const DISTINCT = 10_000;
/** Identical questions asked at once in the coalescing round. */
const IDENTICAL = 10_000;
/** Fresh questions asked one after the other per round. */
const SEQUENTIAL = 1_000;
/** Fresh distinct questions asked at once (through max_concurrency). */
const PARALLEL = 10_000;
const ROUNDS = 3;
/** mitata's time budget per sample set; three alternating sets per figure. */
const MEASURE = { min_cpu_time: 250e6 } as const;

const SEP = "\u0000";

function gateFor(auth: AuthServer, metrics = new Metrics()): Gate {
  // Production's defaults (ttl 30 s, cache 100,000, max_concurrency 64), only the URL is ours.
  const config = benchConfig({ muc_http_auth_url: auth.url });
  return createGate(config, { metrics, logger: silentLogger });
}

/** Fresh strings per question, as parsing a stanza produces them. */
function questions(n: number, tag: string): AuthQuestion[] {
  return Array.from({ length: n }, (_, i) => ({
    userJID: `user${i}@users.example.org`,
    mucJID: `room${i % 1000}@rooms.example.org`,
    nickname: `${tag} nick ${i}`,
  }));
}

/** ns per call of `fn`, median of `ROUNDS` mitata sample sets (alternated by the caller). */
async function nsPerCall(fn: () => unknown): Promise<number> {
  const stats = await measure(fn, MEASURE);
  return stats.avg;
}

async function cachedDecisions(auth: AuthServer): Promise<Row[]> {
  const gate = gateFor(auth);
  const qs = questions(DISTINCT, "hit");
  progress(`filling a gate with ${DISTINCT.toLocaleString()} decisions`);
  const filled = await Promise.all(qs.map((q) => gate.decide(q)));
  assert(filled.every((d) => d.allowed), "every fill decision is an allow");
  for (const q of qs) assert(!(gate.decide(q) instanceof Promise), "a cached decision comes back synchronously");

  // Baselines hold the same keys, built once (Map) or as the gate builds them (lru-cache).
  const keys = qs.map((q) => q.userJID + SEP + q.mucJID + SEP + q.nickname);
  const map = new Map<string, boolean>(keys.map((k) => [k, true]));
  const lru = new LRUCache<string, boolean>({ max: 100_000, ttl: 30_000 });
  for (const k of keys) lru.set(k, true);
  const lruGetOptions = {};

  let i = 0;
  let j = 0;
  let k = 0;
  const decide = () => {
    const d = gate.decide(qs[i]!) as Decision;
    i = i + 1 === DISTINCT ? 0 : i + 1;
    return d;
  };
  const mapGet = () => {
    const v = map.get(keys[j]!);
    j = j + 1 === DISTINCT ? 0 : j + 1;
    return v;
  };
  const lruGet = () => {
    const q = qs[k]!;
    const v = lru.get(q.userJID + SEP + q.mucJID + SEP + q.nickname, lruGetOptions);
    k = k + 1 === DISTINCT ? 0 : k + 1;
    return v;
  };

  progress("timing cached decisions against Map.get and lru-cache get (mitata)");
  const gateNs: number[] = [];
  const mapNs: number[] = [];
  const lruNs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gateNs.push(await nsPerCall(decide));
    mapNs.push(await nsPerCall(mapGet));
    lruNs.push(await nsPerCall(lruGet));
  }
  for (const q of qs) assert(!(gate.decide(q) instanceof Promise), "still cached after timing (TTL not reached)");
  assert(auth.requests() === DISTINCT, `exactly one request per distinct question (${auth.requests()})`);

  const rate = 1e9 / median(gateNs);
  return [
    {
      figure: "cached decision (decide, sync hit)",
      value: rate,
      unit: "/s",
      baseline: { name: "Map.get, prebuilt key", value: 1e9 / median(mapNs) },
      target: { op: ">=", value: 2_000_000 },
    },
    {
      figure: "cached decision (decide, sync hit)",
      value: rate,
      unit: "/s",
      baseline: { name: "lru-cache get, key built as gate does", value: 1e9 / median(lruNs) },
    },
  ];
}

async function coalescedMisses(auth: AuthServer): Promise<Row[]> {
  const metrics = new Metrics();
  const gate = gateFor(auth, metrics);
  const gateRates: number[] = [];
  const bareRates: number[] = [];
  let maxRequests = 0;
  progress(`coalescing ${IDENTICAL.toLocaleString()} identical concurrent questions, ${ROUNDS + 1} rounds`);
  for (let r = 0; r <= ROUNDS; r++) {
    // A new question every round (a miss); fresh objects per caller, as each join parses its own stanza.
    const callers = Array.from({ length: IDENTICAL }, () => ({
      userJID: "alice@users.example.org",
      mucJID: "lobby@rooms.example.org",
      nickname: `Alice round ${r}`,
    }));
    auth.reset();
    const t0 = performance.now();
    const decisions = await Promise.all(callers.map((q) => gate.decide(q)));
    const gateMs = performance.now() - t0;
    maxRequests = Math.max(maxRequests, auth.requests());
    assert(auth.requests() === 1, `${IDENTICAL} identical concurrent questions made ${auth.requests()} HTTP requests, not 1`);
    assert(decisions.every((d) => d.allowed), "every coalesced caller is allowed");
    assert(decisions.filter((d) => d.source === "fetch").length === 1, "one caller led, the others joined it");

    // Baseline: the same callers waiting on one bare round trip, coalesced by hand.
    auth.reset();
    const t1 = performance.now();
    const shared = bareFetch(auth.url);
    const answers = await Promise.all(callers.map(() => shared.then((allowed) => allowed)));
    const bareMs = performance.now() - t1;
    assert(auth.requests() === 1 && answers.every(Boolean), "baseline made one request");
    if (r === 0) continue; // warm-up
    gateRates.push((IDENTICAL / gateMs) * 1000);
    bareRates.push((IDENTICAL / bareMs) * 1000);
  }
  assert(metrics.cache.coalesced.value === (ROUNDS + 1) * (IDENTICAL - 1), "metrics count the coalesced callers");
  return [
    {
      figure: `HTTP requests for ${IDENTICAL.toLocaleString()} identical questions at once`,
      value: maxRequests,
      unit: "count",
      target: { op: "=", value: 1 },
    },
    {
      figure: `coalesced miss: ${IDENTICAL.toLocaleString()} identical at once`,
      value: median(gateRates),
      unit: "/s",
      baseline: { name: "1 bare fetch awaited by all", value: median(bareRates) },
    },
  ];
}

async function freshDecisions(auth: AuthServer): Promise<Row[]> {
  const gate = gateFor(auth);
  const seqGate: number[] = [];
  const seqBare: number[] = [];
  const parGate: number[] = [];
  const parBare: number[] = [];
  progress(`fresh decisions: ${SEQUENTIAL.toLocaleString()} one at a time and ${PARALLEL.toLocaleString()} at once, ${ROUNDS + 1} rounds`);
  for (let r = 0; r <= ROUNDS; r++) {
    // One at a time: the overhead the gate adds on top of one HTTP round trip.
    const seq = questions(SEQUENTIAL, `seq ${r}`);
    auth.reset();
    let t = performance.now();
    for (const q of seq) {
      const d = await gate.decide(q);
      if (!d.allowed || d.source !== "fetch") throw new Error("expected a fresh allow");
    }
    const seqGateMs = performance.now() - t;
    assert(auth.requests() === SEQUENTIAL, "one request per fresh question");
    t = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) if (!(await bareFetch(auth.url))) throw new Error("expected allowed");
    const seqBareMs = performance.now() - t;

    // All at once: the gate's limiter (max_concurrency 64) against the same limit on bare fetches.
    const par = questions(PARALLEL, `par ${r}`);
    auth.reset();
    t = performance.now();
    const ds = await Promise.all(par.map((q) => gate.decide(q)));
    const parGateMs = performance.now() - t;
    assert(auth.requests() === PARALLEL && ds.every((d) => d.allowed), "one request per distinct question");
    const limit = pLimit(64);
    t = performance.now();
    const bs = await Promise.all(par.map(() => limit(() => bareFetch(auth.url))));
    const parBareMs = performance.now() - t;
    assert(bs.every(Boolean), "bare fetches allowed");
    gate.forget(); // keep the cache from growing across rounds
    if (r === 0) continue; // warm-up
    seqGate.push((SEQUENTIAL / seqGateMs) * 1000);
    seqBare.push((SEQUENTIAL / seqBareMs) * 1000);
    parGate.push((PARALLEL / parGateMs) * 1000);
    parBare.push((PARALLEL / parBareMs) * 1000);
  }
  const gateUs = 1e6 / median(seqGate);
  const bareUs = 1e6 / median(seqBare);
  return [
    {
      figure: "fresh decision, one at a time",
      value: median(seqGate),
      unit: "/s",
      baseline: { name: "bare fetch round trip", value: median(seqBare) },
    },
    {
      figure: "overhead of a fresh decision over the round trip",
      value: gateUs - bareUs,
      unit: "µs",
      baseline: { name: "bare fetch round trip", value: bareUs },
    },
    {
      figure: `fresh decisions, ${PARALLEL.toLocaleString()} distinct at once`,
      value: median(parGate),
      unit: "/s",
      baseline: { name: "bare fetch via p-limit(64)", value: median(parBare) },
    },
  ];
}

export async function gateBench(): Promise<BenchResult> {
  const auth = startAuthServer();
  try {
    const rows = [...(await cachedDecisions(auth)), ...(await coalescedMisses(auth)), ...(await freshDecisions(auth))];
    return {
      title: "Gate micro-benchmark — src/auth/gate.ts via createGate (production defaults)",
      rows,
      notes: [
        `Cached: ${DISTINCT.toLocaleString()} distinct questions walked round-robin; ns/call by mitata, median of ${ROUNDS} alternating sample sets.`,
        "Misses go to an in-process Bun.serve answering {\"allowed\":true} with no delay; the bare-fetch baselines hit the same server.",
        `Coalescing is asserted before timing: ${IDENTICAL.toLocaleString()} identical concurrent questions → exactly 1 HTTP request, every round.`,
        "Overhead = (1 / fresh decisions/s) − (1 / bare round trips/s), sequential; its ratio is against the round trip itself.",
      ],
    };
  } finally {
    auth.stop();
  }
}

if (import.meta.main) await runStandalone(gateBench);
