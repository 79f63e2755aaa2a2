/**
 * Component alone: mucgate run exactly as in production — its own process,
 * `bun src/main.ts --config FILE`, XEP-0114 handshake over TCP — against an
 * in-process stand-in for the XMPP server, which streams joins from 10,000
 * distinct users into 1,000 rooms — all 10,000 in flight at once — and counts
 * the self-presences that come back. The echo baseline runs in its own
 * process too, so each component has a core of its own and the bench
 * process (server, counting, auth service) the other.
 *
 *  - cold: every question is new; the gate asks an in-process auth service
 *    that answers at once (max_concurrency 64, production default);
 *  - warm: the same user/room/nick again after a leave, every decision cached
 *    (asserted: zero auth requests);
 *
 * against the same stream answered by `echo-component.ts` (no MUC, no gate)
 * through the same server, sockets and counting, alternated in the same run.
 * Latency of a join: from the write of its presence to the arrival of its
 * self-presence, matched by user.
 *
 *   ./node_modules/.bin/bun bench/component.bench.ts
 */
import { createGate } from "../src/auth/create-gate.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { startMucgate } from "../src/mucgate.ts";
import { REPO_ROOT, startMucgate as spawnMucgate, type MucgateProcess } from "../test/e2e/harness/mucgate.ts";
import { AnswerCounter } from "./support/answer-counter.ts";
import { freePort, startAuthServer, type AuthServer } from "./support/auth-server.ts";
import { benchConfig, DOMAIN, SECRET } from "./support/config.ts";
import { assert, median, progress, quantile, runStandalone, type BenchResult, type Row } from "./support/report.ts";
import { startAcceptServer, type AcceptServer, type AcceptSession } from "../test/support/accept-server.ts";

const USERS = 10_000;
const ROOMS = 1_000;
/** Measured repetitions of each phase (after one warm-up repetition). */
const REPS = 3;
/** In flight for the extra latency figure: a client population that waits for its answers. */
const SMALL_WINDOW = 100;
const PHASE_TIMEOUT_MS = 30_000;

interface PhaseResult {
  ms: number;
  /** Per join, ms from write to self-presence, sorted. */
  latencies: Float64Array;
}

/** One component under test, seen from the server side. */
class Driver {
  readonly server: AcceptServer;
  #link: AcceptSession | undefined;
  #phase: {
    unavailable: boolean;
    sent: Float64Array;
    latency: Float64Array;
    answered: number;
    next: number;
    window: number;
    make: (i: number) => string;
    done: (end: number) => void;
    fail: (err: Error) => void;
  } | undefined;
  readonly #counter: AnswerCounter;

  constructor(readonly name: string) {
    this.#counter = new AnswerCounter(
      (user, unavailable) => this.#onSelf(user, unavailable),
      () => this.#onChunk(),
      (stanza) => this.#phase?.fail(new Error(`${name}: unexpected answer ${stanza}`)),
    );
    this.server = startAcceptServer({ secret: SECRET, decode: "latin1", onData: (chunk) => this.#counter.feed(chunk) });
  }

  async connected(): Promise<void> {
    this.#link = await this.server.waitForSession(1, 10_000);
  }

  /**
   * Send `USERS` presences made by `make`, at most `window` unanswered at any
   * time, and wait for every self-presence.
   */
  run(make: (i: number) => string, unavailable: boolean, window = USERS): Promise<PhaseResult> {
    const link = this.#link!;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        const p = this.#phase!;
        this.#phase = undefined;
        const missing: number[] = [];
        for (let i = 0; i < USERS && missing.length < 5; i++) if (p.latency[i]! < 0) missing.push(i);
        reject(new Error(`${this.name}: only ${p.answered} of ${USERS} answered in ${PHASE_TIMEOUT_MS} ms (missing: u${missing.join(", u")})`));
      }, PHASE_TIMEOUT_MS);
      this.#phase = {
        unavailable,
        sent: new Float64Array(USERS).fill(-1),
        latency: new Float64Array(USERS).fill(-1),
        answered: 0,
        next: 0,
        window,
        make,
        done: (end) => {
          clearTimeout(timer);
          const p = this.#phase!;
          this.#phase = undefined;
          resolve({ ms: end - started, latencies: p.latency.sort() });
        },
        fail: (err) => {
          clearTimeout(timer);
          this.#phase = undefined;
          reject(err);
        },
      };
      this.#sendMore(link);
    });
  }

  #sendMore(link: AcceptSession): void {
    const p = this.#phase!;
    const n = Math.min(USERS - p.next, p.window - (p.next - p.answered));
    if (n <= 0) return;
    let xml = "";
    for (let i = p.next; i < p.next + n; i++) xml += p.make(i);
    const now = performance.now();
    for (let i = p.next; i < p.next + n; i++) p.sent[i] = now;
    p.next += n;
    link.write(xml);
  }

  #onSelf(user: number, unavailable: boolean): void {
    const p = this.#phase;
    if (!p) return;
    if (unavailable !== p.unavailable || user >= USERS || p.sent[user]! < 0 || p.latency[user]! >= 0) {
      p.fail(new Error(`${this.name}: unexpected self-presence for u${user} (unavailable: ${unavailable})`));
      return;
    }
    p.latency[user] = performance.now() - p.sent[user]!;
    p.answered++;
  }

  #onChunk(): void {
    const p = this.#phase;
    if (!p) return;
    if (p.answered === USERS) p.done(performance.now());
    else if (p.window < USERS) this.#sendMore(this.#link!);
  }
}

const room = (i: number) => `room${i % ROOMS}@${DOMAIN}`;
const joinOf = (tag: string) => (i: number) =>
  `<presence from='u${i}@users.bench/r' to='${room(i)}/n${i}.${tag}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`;
const leaveOf = (tag: string) => (i: number) => `<presence type='unavailable' from='u${i}@users.bench/r' to='${room(i)}/n${i}.${tag}'/>`;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

interface Samples {
  rate: number[];
  p50: number[];
  p99: number[];
}

const samples = (): Samples => ({ rate: [], p50: [], p99: [] });

function record(s: Samples, r: PhaseResult): void {
  s.rate.push((USERS / r.ms) * 1000);
  s.p50.push(quantile(r.latencies, 0.5));
  s.p99.push(quantile(r.latencies, 0.99));
}

/** mucgate's own count of rooms and occupants, from its /metrics. */
async function occupancy(mucgate: MucgateProcess): Promise<{ rooms: number; occupants: number }> {
  const text = await (await fetch(`${mucgate.httpUrl}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { rooms: gauge("mucgate_rooms"), occupants: gauge("mucgate_occupants") };
}

async function mucgateRep(gate: Driver, mucgate: MucgateProcess, auth: AuthServer, tag: string, window: number, cold: Samples, warm: Samples): Promise<void> {
  auth.reset();
  const c = await gate.run(joinOf(tag), false, USERS);
  assert(auth.requests() === USERS, `cold round: one auth request per join (${auth.requests()})`);
  let o = await occupancy(mucgate);
  assert(o.occupants === USERS, `every join admitted (${o.occupants} occupants)`);
  await gate.run(leaveOf(tag), true);
  o = await occupancy(mucgate);
  assert(o.rooms === 0, `every room empty and gone after the leaves (${o.rooms} left)`);
  auth.reset();
  const w = await gate.run(joinOf(tag), false, window);
  assert(auth.requests() === 0, `warm round: zero auth requests (${auth.requests()})`);
  o = await occupancy(mucgate);
  assert(o.occupants === USERS, `every warm join admitted (${o.occupants} occupants)`);
  await gate.run(leaveOf(tag), true);
  record(cold, c);
  record(warm, w);
}

/** The echo baseline in a process of its own, like mucgate. */
async function spawnEcho(port: number): Promise<{ stop(): void }> {
  const proc = Bun.spawn([process.execPath, "bench/echo-component.ts", `xmpp://127.0.0.1:${port}`, DOMAIN, SECRET], {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "inherit",
  });
  return { stop: () => proc.kill() };
}

export async function componentBench(): Promise<BenchResult> {
  const auth = startAuthServer();
  const echo = new Driver("echo");
  const muc = new Driver("mucgate");
  const echoComponent = await spawnEcho(echo.server.port);
  await echo.connected();

  const mucgate = await spawnMucgate({
    prosody: { componentDomain: DOMAIN, componentSecret: SECRET, componentService: `xmpp://127.0.0.1:${muc.server.port}` },
    authUrl: auth.url,
    config: { log_level: "error" },
    // BENCH_PROFILE_DIR=/tmp/x: mucgate writes a Markdown CPU profile there when it exits.
    ...(process.env.BENCH_PROFILE_DIR
      ? { command: [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, "src/main.ts"] }
      : {}),
  });
  try {
    await muc.connected();

    const echoS = samples();
    const cold = samples();
    const warm = samples();
    const echoSmall = samples();
    const warmSmall = samples();
    const scratch = samples();
    progress(`component alone: ${USERS.toLocaleString()} users into ${ROOMS.toLocaleString()} rooms, all in flight; warm-up + ${REPS} repetitions`);
    for (let rep = 0; rep <= REPS; rep++) {
      const e = await echo.run(joinOf(`e${rep}`), false);
      await echo.run(leaveOf(`e${rep}`), true);
      if (rep > 0) record(echoS, e);
      await mucgateRep(muc, mucgate, auth, `m${rep}`, USERS, rep > 0 ? cold : scratch, rep > 0 ? warm : scratch);
      progress(`repetition ${rep}${rep === 0 ? " (warm-up)" : ""} done`);
    }
    progress(`latency with ${SMALL_WINDOW} joins in flight`);
    record(echoSmall, await echo.run(joinOf("es"), false, SMALL_WINDOW));
    await echo.run(leaveOf("es"), true);
    await mucgateRep(muc, mucgate, auth, "ms", SMALL_WINDOW, scratch, warmSmall);

    const echoRate = median(echoS.rate);
    const echoP50 = median(echoS.p50);
    const echoP99 = median(echoS.p99);
    const rows: Row[] = [
      { figure: "warm joins (all cached)", value: median(warm.rate), unit: "/s", baseline: { name: "echo component", value: echoRate }, target: { op: ">=", value: 20_000 } },
      { figure: "cold joins (auth service, 0 ms)", value: median(cold.rate), unit: "/s", baseline: { name: "echo component", value: echoRate }, target: { op: ">=", value: 10_000 } },
      { figure: "warm join latency p50", value: median(warm.p50), unit: "ms", baseline: { name: "echo component", value: echoP50 } },
      { figure: "warm join latency p99", value: median(warm.p99), unit: "ms", baseline: { name: "echo component", value: echoP99 }, target: { op: "<", value: 50 } },
      { figure: "cold join latency p50", value: median(cold.p50), unit: "ms", baseline: { name: "echo component", value: echoP50 } },
      { figure: "cold join latency p99", value: median(cold.p99), unit: "ms", baseline: { name: "echo component", value: echoP99 }, target: { op: "<", value: 50 } },
      { figure: `warm join latency p99, ${SMALL_WINDOW} in flight`, value: median(warmSmall.p99), unit: "ms", baseline: { name: "echo component", value: median(echoSmall.p99) }, target: { op: "<", value: 50 } },
      { figure: `warm joins, ${SMALL_WINDOW} in flight`, value: median(warmSmall.rate), unit: "/s", baseline: { name: "echo component", value: median(echoSmall.rate) } },
    ];
    return {
      title: `Component alone — startMucgate over XEP-0114, ${USERS.toLocaleString()} users → ${ROOMS.toLocaleString()} rooms, ${USERS.toLocaleString()} joins in flight`,
      rows,
      notes: [
        `Median of ${REPS} repetitions after a warm-up; each repetition: cold joins, leaves, warm joins (same user/room/nick), leaves; echo runs alternate with mucgate's.`,
        "Asserted every repetition: every join answered with its self-presence (no error), one auth request per cold join, zero per warm join, 10,000 occupants, rooms gone after the leaves.",
        `Each join into a room of k occupants makes 2k + 2 stanzas (k in-room presences to the joiner, its presence to k occupants, self-presence, subject); rooms fill to ${USERS / ROOMS}. The echo answers with the self-presence alone.`,
        `With all ${USERS.toLocaleString()} written at once, latency is queueing: p50 ≈ half the burst's duration, so p99 < 50 ms needs the whole burst done in ~50 ms (≥ 200,000 joins/s). The last rows hold ${SMALL_WINDOW} joins in flight instead.`,
        "mucgate (`bun src/main.ts`) and the echo each run in a process of their own; the bench server, its counting and the auth service share the bench's event loop.",
      ],
    };
  } finally {
    await mucgate.stop();
    echoComponent.stop();
    echo.server.stop();
    muc.server.stop();
    auth.stop();
  }
}

/**
 * `--profile-warm`: for `bun --cpu-prof-md bench/component.bench.ts --profile-warm`.
 * One cold round to fill the cache, then warm join/leave rounds only (no echo,
 * no assertions beyond the phases completing), so the profile is the warm path.
 */
async function profileWarm(rounds = 8): Promise<void> {
  const auth = startAuthServer();
  const muc = new Driver("mucgate");
  const config = benchConfig({ component_service: `xmpp://127.0.0.1:${muc.server.port}`, http_port: freePort(), muc_http_auth_url: auth.url });
  const metrics = new Metrics();
  const mucgate = await startMucgate(config, { logger: silentLogger, authorizer: createGate(config, { metrics, logger: silentLogger }), metrics });
  await muc.connected();
  await waitFor(() => mucgate.connection.state === "online", "mucgate online");
  await muc.run(joinOf("p"), false);
  await muc.run(leaveOf("p"), true);
  auth.reset();
  for (let r = 0; r < rounds; r++) {
    const j = await muc.run(joinOf("p"), false);
    const l = await muc.run(leaveOf("p"), true);
    console.log(`warm round ${r}: joins ${((USERS / j.ms) * 1000).toFixed(0)}/s, leaves ${((USERS / l.ms) * 1000).toFixed(0)}/s`);
  }
  assert(auth.requests() === 0, "warm rounds asked nothing");
  await mucgate.stop();
  process.exit(0);
}

if (import.meta.main) {
  if (process.argv.includes("--profile-warm")) await profileWarm();
  else await runStandalone(componentBench);
}
