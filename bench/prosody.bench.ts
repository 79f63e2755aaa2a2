/**
 * End to end through a real Prosody: 1,000 raw c2s sessions (support/c2s-driver.ts)
 * on a private Prosody join rooms on mucgate — a real process started from
 * a TOML file, asking a real HTTP auth service — and, in the same Prosody and
 * the same run, alternating, on the zero-logic echo component
 * (echo-component.ts, a process of its own on another component slot): how
 * fast the server alone routes a join to a component and its answer back.
 *
 * Each round: every session sends one join (1,000 in flight) and waits for its
 * self-presence (status 110); then every session leaves and waits for its
 * unavailable self-presence. Latency of a join: from the write of its
 * presence to the arrival of its self-presence on that session's socket.
 *
 *  - cold: fresh user/room/nick, so the gate asks the auth service once per
 *    join (asserted); once with an answer at once, once with a 20 ms answer
 *    (the context);
 *  - warm: the same user/room/nick rejoining inside the TTL: every decision
 *    cached, zero auth requests (asserted);
 *  - echo: the same joins answered by the echo component, alternating with
 *    the warm rounds.
 *
 * Two room layouts: 10 users per room (100 rooms), where mucgate's traffic
 * through Prosody grows with the room (2k + 2 stanzas per join into a room of
 * k, the echo's 1), and 1 user per room (1,000 rooms), where mucgate sends 2
 * (self-presence, subject): there a third component, the echo with
 * `--subject`, sends exactly as many stanzas, and is the fair baseline for
 * "the component is not the bottleneck".
 *
 * CPU time of each process (Prosody, mucgate, echoes, the bench) is read from
 * /proc before and after every join phase and reported in the notes: it
 * shows who limits.
 *
 *   ./node_modules/.bin/bun bench/prosody.bench.ts       (or: npm run bench -- prosody)
 *   BENCH_PROFILE_DIR=/tmp/prof …   mucgate writes a Markdown CPU profile there on exit
 */
import { startMucgate, type MucgateProcess } from "../test/e2e/harness/mucgate.ts";
import { startProsody } from "../test/e2e/harness/prosody.ts";
import { AnswerCounter } from "./support/answer-counter.ts";
import { startAuthServer, type AuthServer } from "./support/auth-server.ts";
import { openSessions, type C2sSession } from "./support/c2s-driver.ts";
import { CpuMeter } from "./support/cpu-time.ts";
import { spawnEchoComponent } from "./support/echo-process.ts";
import { assert, median, progress, quantile, runStandalone, type BenchResult, type Row } from "./support/report.ts";

const USERS = 1_000;
const LOGIN_CONCURRENCY = 50;
/** Warm rounds (and as many echo rounds, alternating) per layout. */
const WARM_REPS = 3;
/** The slow backend. */
const SLOW_AUTH_MS = 20;
/** The limit: every join answered within this. */
const MAX_LATENCY_MS = 5_000;
/** A round still unanswered after this is a failure (joins lost). */
const ROUND_TIMEOUT_MS = 15_000;
/** Long enough that warm rounds are inside it however slow the machine. */
const CACHE_TTL_S = 600;

const USER_DOMAIN = "localhost";
const MUC_DOMAIN = "rooms.localhost";
const ECHO_DOMAIN = "echo.localhost";
/** The echo that also sends a subject: as many stanzas per join as mucgate into an empty room. */
const ECHO2_DOMAIN = "echo-subject.localhost";
const PASSWORD = "bench-password";

const LAYOUTS = [
  { key: "10/room", rooms: USERS / 10, echoSubject: false },
  { key: "1/room", rooms: USERS, echoSubject: true },
] as const;
type Layout = (typeof LAYOUTS)[number];

interface Phase {
  ms: number;
  /** Per join, ms from write to self-presence, sorted ascending. */
  latencies: Float64Array;
}

/** The sessions, and the bookkeeping of the phase in progress. */
class Fleet {
  #phase:
    | {
        unavailable: boolean;
        sent: Float64Array;
        latency: Float64Array;
        answered: number;
        done: () => void;
        fail: (err: Error) => void;
      }
    | undefined;

  constructor(readonly sessions: readonly C2sSession[]) {
    sessions.forEach((session, i) => {
      const counter = new AnswerCounter(
        (user, unavailable) => this.#onSelf(i, user, unavailable),
        () => {},
        (stanza) => this.#fail(new Error(`u${i}: unexpected answer ${stanza}`)),
      );
      session.onData = (chunk) => counter.feed(chunk);
    });
  }

  /** Every session sends `make(i)` at once; resolves when each has its (un)available self-presence. */
  run(make: (i: number) => string, unavailable: boolean): Promise<Phase> {
    const n = this.sessions.length;
    if (this.#stray) return Promise.reject(this.#stray);
    return new Promise((resolve, reject) => {
      const sent = new Float64Array(n);
      const latency = new Float64Array(n).fill(-1);
      let started = 0;
      const timer = setTimeout(() => {
        const p = this.#phase!;
        const missing: number[] = [];
        for (let i = 0; i < n && missing.length < 5; i++) if (latency[i]! < 0) missing.push(i);
        this.#fail(new Error(`${n - p.answered} of ${n} ${unavailable ? "leaves" : "joins"} unanswered after ${ROUND_TIMEOUT_MS} ms (lost; e.g. u${missing.join(", u")})`));
      }, ROUND_TIMEOUT_MS);
      this.#phase = {
        unavailable,
        sent,
        latency,
        answered: 0,
        done: () => {
          clearTimeout(timer);
          this.#phase = undefined;
          resolve({ ms: performance.now() - started, latencies: latency.sort() });
        },
        fail: (err) => {
          clearTimeout(timer);
          this.#phase = undefined;
          reject(err);
        },
      };
      started = performance.now();
      for (let i = 0; i < n; i++) {
        sent[i] = performance.now();
        this.sessions[i]!.send(make(i));
      }
    });
  }

  #onSelf(session: number, user: number, unavailable: boolean): void {
    const p = this.#phase;
    if (!p) return this.#fail(new Error(`u${session}: self-presence outside a round`));
    if (user !== session || unavailable !== p.unavailable || p.latency[session]! >= 0) {
      return this.#fail(new Error(`u${session}: unexpected self-presence for u${user} (unavailable: ${unavailable})`));
    }
    p.latency[session] = performance.now() - p.sent[session]!;
    if (++p.answered === this.sessions.length) p.done();
  }

  /** An answer that arrived between rounds: kept, and thrown by the next round. */
  #stray: Error | undefined;

  #fail(err: Error): void {
    if (this.#phase) this.#phase.fail(err);
    else this.#stray ??= err;
  }
}

interface RoundResult {
  join: Phase;
  leaveMs: number;
  /** Auth requests during the round (joins and leaves). */
  auth: number;
  /** Share of one core each process used during the join phase (0..1+). */
  cpu: Record<string, number>;
}

const joinTo = (domain: string, layout: Layout, tag: string) => (i: number) =>
  `<presence to='r${i % layout.rooms}@${domain}/n${i}${tag}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`;
const leaveTo = (domain: string, layout: Layout, tag: string) => (i: number) =>
  `<presence type='unavailable' to='r${i % layout.rooms}@${domain}/n${i}${tag}'/>`;

const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : "n/a");

export async function prosodyBench(): Promise<BenchResult> {
  if (Bun.which("prosody") === null) throw new Error("prosody is not installed (bun scripts/ensure-servers.ts prosody installs it)");
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const auth: AuthServer = startAuthServer();
    cleanups.push(() => auth.stop());

    progress("starting Prosody with three component slots (mucgate, echo, echo + subject)");
    const prosody = await startProsody({ components: [{ domain: MUC_DOMAIN }, { domain: ECHO_DOMAIN }, { domain: ECHO2_DOMAIN }] });
    cleanups.push(() => prosody.stop());
    prosody.registerMany(Array.from({ length: USERS }, (_, i) => ({ user: `u${i}`, password: PASSWORD })));

    const mucgate: MucgateProcess = await startMucgate({
      prosody,
      authUrl: auth.url,
      config: { log_level: "error", muc_http_auth_cache_ttl: CACHE_TTL_S },
      ...(process.env.BENCH_PROFILE_DIR
        ? { command: [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, "src/main.ts"] }
        : {}),
    });
    cleanups.push(async () => void (await mucgate.stop()));
    const echo = await spawnEchoComponent(prosody.slot(ECHO_DOMAIN));
    cleanups.push(() => echo.stop());
    const echo2 = await spawnEchoComponent({ ...prosody.slot(ECHO2_DOMAIN), subject: true });
    cleanups.push(() => echo2.stop());

    progress(`logging in ${USERS.toLocaleString()} c2s sessions (${LOGIN_CONCURRENCY} at a time, not timed)`);
    const t0 = performance.now();
    const sessions = await openSessions(
      Array.from({ length: USERS }, (_, i) => ({ user: `u${i}`, password: PASSWORD })),
      { host: prosody.host, port: prosody.c2sPort, domain: USER_DOMAIN, concurrency: LOGIN_CONCURRENCY },
    );
    cleanups.push(() => sessions.forEach((s) => s.close()));
    const loginSeconds = (performance.now() - t0) / 1000;
    const fleet = new Fleet(sessions);

    const meter = new CpuMeter({ prosody: prosody.pid, mucgate: mucgate.pid, echo: echo.pid, echo2: echo2.pid, bench: process.pid });
    const round = async (domain: string, layout: Layout, tag: string): Promise<RoundResult> => {
      auth.reset();
      const before = meter.read();
      const join = await fleet.run(joinTo(domain, layout, tag), false);
      const used = meter.since(before);
      const cpu: Record<string, number> = {};
      for (const [name, s] of Object.entries(used)) cpu[name] = s / (join.ms / 1000);
      const leave = await fleet.run(leaveTo(domain, layout, tag), true);
      return { join, leaveMs: leave.ms, auth: auth.requests(), cpu };
    };

    const rows: Row[] = [];
    const notes: string[] = [];
    let slowest = 0;
    let joins = 0;
    const rate = (r: RoundResult) => (USERS / r.join.ms) * 1000;
    const leaveRate = (r: RoundResult) => (USERS / r.leaveMs) * 1000;
    const p50 = (r: RoundResult) => quantile(r.join.latencies, 0.5);
    const p99 = (r: RoundResult) => quantile(r.join.latencies, 0.99);
    const med = (rs: RoundResult[], f: (r: RoundResult) => number) => median(rs.map(f));
    const cpuText = (rs: RoundResult[], component: string) =>
      ["prosody", component, "bench"].map((name) => `${name} ${pct(med(rs, (r) => r.cpu[name]!))}`).join(", ");

    for (const [index, layout] of LAYOUTS.entries()) {
      const L = layout.key;
      // This layout's cold nicknames: questions never asked before (user i may be in room i of an earlier layout).
      const [tagA, tagB] = [`a${index}`, `b${index}`];
      const track = (r: RoundResult) => {
        slowest = Math.max(slowest, r.join.latencies[r.join.latencies.length - 1]!);
        joins += USERS;
        return r;
      };
      progress(`${L}: ${USERS.toLocaleString()} users into ${layout.rooms.toLocaleString()} rooms`);
      await round(ECHO_DOMAIN, layout, "w"); // warm-up: Prosody, the sessions, the bench's code paths

      auth.setDelay(0);
      const cold0 = track(await round(MUC_DOMAIN, layout, tagA));
      assert(cold0.auth === USERS, `${L} cold round (0 ms): one auth request per join (${cold0.auth})`);
      auth.setDelay(SLOW_AUTH_MS);
      const cold20 = track(await round(MUC_DOMAIN, layout, tagB));
      auth.setDelay(0);
      assert(cold20.auth === USERS, `${L} cold round (${SLOW_AUTH_MS} ms): one auth request per join (${cold20.auth})`);

      const warm: RoundResult[] = [];
      const echoes: RoundResult[] = [];
      const echoes2: RoundResult[] = [];
      for (let rep = 0; rep < WARM_REPS; rep++) {
        echoes.push(track(await round(ECHO_DOMAIN, layout, "e")));
        if (layout.echoSubject) echoes2.push(track(await round(ECHO2_DOMAIN, layout, "e")));
        const w = track(await round(MUC_DOMAIN, layout, rep % 2 ? tagB : tagA));
        assert(w.auth === 0, `${L} warm round: zero auth requests (${w.auth})`);
        warm.push(w);
      }

      const echoRate = med(echoes, rate);
      const echoP99 = med(echoes, p99);
      const base = (value: number) => ({ name: "echo component", value });
      rows.push({ figure: `${L}: warm joins (cached)`, value: med(warm, rate), unit: "/s", baseline: base(echoRate), target: { op: ">=", value: 0.8 * echoRate } });
      if (layout.echoSubject) {
        const echo2Rate = med(echoes2, rate);
        rows.push({ figure: `${L}: warm joins (cached)`, value: med(warm, rate), unit: "/s", baseline: { name: "echo + subject", value: echo2Rate }, target: { op: ">=", value: 0.8 * echo2Rate } });
      }
      rows.push(
        { figure: `${L}: cold joins, auth 0 ms`, value: rate(cold0), unit: "/s", baseline: base(echoRate) },
        { figure: `${L}: cold joins, auth ${SLOW_AUTH_MS} ms`, value: rate(cold20), unit: "/s", baseline: base(echoRate) },
        { figure: `${L}: warm p50`, value: med(warm, p50), unit: "ms", baseline: base(med(echoes, p50)) },
        { figure: `${L}: warm p99`, value: med(warm, p99), unit: "ms", baseline: base(echoP99) },
        { figure: `${L}: cold p99, auth 0 ms`, value: p99(cold0), unit: "ms", baseline: base(echoP99) },
        { figure: `${L}: cold p99, auth ${SLOW_AUTH_MS} ms`, value: p99(cold20), unit: "ms", baseline: base(echoP99) },
        { figure: `${L}: auth requests, each cold round`, value: Math.min(cold0.auth, cold20.auth), unit: "count", baseline: { name: "joins in the round", value: USERS } },
        { figure: `${L}: auth requests, each warm round`, value: Math.max(...warm.map((r) => r.auth)), unit: "count", target: { op: "=", value: 0 } },
      );
      notes.push(
        `${L}, CPU during the joins as a share of one core (median): echo rounds: ${cpuText(echoes, "echo")}; ` +
          (layout.echoSubject ? `echo + subject: ${cpuText(echoes2, "echo2")}; ` : "") +
          `mucgate warm: ${cpuText(warm, "mucgate")}; cold 0 ms: ${cpuText([cold0], "mucgate")}; cold ${SLOW_AUTH_MS} ms: ${cpuText([cold20], "mucgate")}. ` +
          `Leaves: echo ${Math.round(med(echoes, leaveRate))}/s, mucgate ${Math.round(med(warm, leaveRate))}/s.`,
      );
      progress(`${L}: done`);
    }

    rows.push(
      { figure: `slowest join, any round (${USERS.toLocaleString()} in flight)`, value: slowest, unit: "ms", target: { op: "<", value: MAX_LATENCY_MS } },
      { figure: "joins answered, all measured rounds", value: joins, unit: "count", target: { op: "=", value: joins } },
    );

    return {
      title: `End to end through Prosody — ${USERS.toLocaleString()} raw c2s sessions, ${USERS.toLocaleString()} joins in flight, mucgate vs echo components on the same server`,
      rows,
      notes: [
        `Per layout: a warm-up echo round, a cold mucgate round with the auth service answering at once, one with a ${SLOW_AUTH_MS} ms answer, then ${WARM_REPS} × (echo round${LAYOUTS.some((l) => l.echoSubject) ? ", [1/room: echo + subject round]" : ""}, mucgate warm round) alternating; medians over the ${WARM_REPS}. Every round: ${USERS.toLocaleString()} joins written at once (one per session), each session waits for its self-presence (110), then all leave and wait for the unavailable self-presence. Latency is mostly queueing: p50 ≈ half the burst.`,
        `Asserted: every join and leave answered (a round unanswered after ${ROUND_TIMEOUT_MS / 1000} s fails the bench, so the count row is only printed when none was lost), no error stanza, one auth request per cold join, zero per warm join (cache TTL ${CACHE_TTL_S} s). Warm targets: 0.8 × the baseline's rate in this run.`,
        `Traffic through Prosody per join: echo answers with 1 stanza; mucgate with 2k + 2 into a room of k occupants (k presences of the others to the joiner, the joiner's presence to k others, self-presence, subject). 10/room: ~11 on average, so it measures Prosody routing MUC traffic more than the component. 1/room: mucgate 2 (self-presence with 201/110 and occupant-id, subject) vs echo 1, and vs "echo + subject" 2 — the comparison of equal stanza counts.`,
        ...notes,
        `Reading the CPU split: a process near 100% of one core is the limit. Cold rounds at ${SLOW_AUTH_MS} ms: with max_concurrency 64 the gate could decide 64 / ${SLOW_AUTH_MS} ms = ${Math.round(64 / (SLOW_AUTH_MS / 1000)).toLocaleString()} fresh joins/s, above Prosody's rate, but the answers wait for the auth round trip, so Prosody idles part of such a round.`,
        `Processes: Prosody 0.12 (one Lua thread: c2s, routing, component streams), mucgate (\`bun src/main.ts\`, max_concurrency 64), the echo components (\`bun bench/echo-component.ts\`), and the bench (${USERS.toLocaleString()} raw c2s sockets, answer counting, the in-process auth service), on ${navigator.hardwareConcurrency} cores. Session logins (not timed): ${loginSeconds.toFixed(1)} s.`,
        "Issue's context: Prosody's own MUC with mod_muc_http_auth, 2 cores, 20 ms backend: ~115 joins/s, asking the backend on every join; bare routing to an echoing component ~1,000 joins/s.",
      ],
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        process.stderr.write(`cleanup: ${(err as Error).message}\n`);
      }
    }
  }
}

if (import.meta.main) await runStandalone(prosodyBench);
