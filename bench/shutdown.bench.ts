/**
 * Graceful stop at scale, through a real Prosody: 10,000 occupants (2,000
 * raw c2s sessions, each in 5 rooms of 50), then SIGTERM to the mucgate
 * process. The measure: "10,000 occupants, SIGTERM: 10,000 of
 * 10,000 get their last stanza".
 *
 * Part 1, `muc_keep_occupants_on_restart = false`: every session of every
 * occupant must get its unavailable self-presence with status 332 (system
 * shutdown, XEP-0045 status code registry) before the process exits; joins
 * still waiting for the auth backend (it hangs for one room) must each get
 * their refusal; the "mucgate stopped" log line must not claim more than
 * the clients got. Before the signal, one message to each room (as many
 * copies as there are occupants) is timed through the same path: the
 * baseline for the time from the signal to the exit.
 *
 * Part 2, the default (`true`): the same occupants in a fresh mucgate,
 * SIGTERM, start again on the same storage: every occupant is back
 * (`mucgate_occupants`, and one message to each room reaching every one),
 * and no client saw an unavailable presence in between, also after the
 * restored sessions were checked (session-prober.ts).
 *
 * Joins are sent one wave per room slot (every session at once) and are not
 * timed. Attribute values are found by name and either quote; room names and
 * nicks are letters only, so no figure in them can pass for a status code.
 *
 *   npx bun bench/shutdown.bench.ts          (or: npm run bench -- shutdown)
 *   BENCH_SHUTDOWN_SESSIONS=200 BENCH_SHUTDOWN_ROOMS_PER_SESSION=5 BENCH_SHUTDOWN_ROOM_SIZE=50 …
 */
import { hang, startAuthServer } from "../test/e2e/harness/auth-server.ts";
import { startMucgate, type MucgateProcess } from "../test/e2e/harness/mucgate.ts";
import { startProsody } from "../test/e2e/harness/prosody.ts";
import { openSessions, type C2sSession } from "./support/c2s-driver.ts";
import { CpuMeter } from "./support/cpu-time.ts";
import { assert, progress, runStandalone, type BenchResult } from "./support/report.ts";

const SESSIONS = Number(process.env.BENCH_SHUTDOWN_SESSIONS ?? 2_000);
const ROOMS_PER_SESSION = Number(process.env.BENCH_SHUTDOWN_ROOMS_PER_SESSION ?? 5);
const ROOM_SIZE = Number(process.env.BENCH_SHUTDOWN_ROOM_SIZE ?? 50);
const PENDING = Number(process.env.BENCH_SHUTDOWN_PENDING ?? 5);
const WAVE_TIMEOUT_MS = Number(process.env.BENCH_SHUTDOWN_WAVE_TIMEOUT_S ?? 300) * 1000;
/** After the exit: how long the clients may still be receiving (Prosody routes what it read). */
const SETTLE_MS = 30_000;
const PASSWORD = "pw";
const MUC = "rooms.localhost";
const PENDING_ROOM = "pending";

const GROUPS = Math.ceil(SESSIONS / ROOM_SIZE);
const OCCUPANTS = SESSIONS * ROOMS_PER_SESSION;

/** A number in letters (a, b, …, z, ba, bb, …): no digit can appear in a JID we make. */
function letters(n: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

const user = (s: number) => `u${letters(s)}`;
const nick = (s: number) => `n${letters(s)}`;
/** Session s's k-th room: sessions of the same group (s mod GROUPS) share their rooms. */
const roomOf = (s: number, k: number) => `r${letters(s % GROUPS)}o${letters(k)}@${MUC}`;

/** Per (session, room) slot o = s * ROOMS_PER_SESSION + k: what arrived. */
class Tally {
  readonly joined = new Uint8Array(OCCUPANTS);
  readonly bye = new Uint8Array(OCCUPANTS);
  readonly copies = new Uint8Array(OCCUPANTS);
  joinedCount = 0;
  byeCount = 0;
  copiesCount = 0;
  /** Unavailable presences from our rooms, of anyone (self or not). */
  unavailable = 0;
  /** Presences carrying 332 about someone else (the room's copies of others' removal). */
  others332 = 0;
  /** Pending sessions: error presences for their join. */
  pendingErrors = 0;
  pendingConditions = new Map<string, number>();
  errors: string[] = [];
  /** The body marker a counted message carries. */
  marker = "";
  lastByeAt = 0;
  lastCopyAt = 0;
  /** Called after every chunk: lets waiters check. */
  onProgress: () => void = () => {};

  resetCounters(): void {
    this.unavailable = 0;
    this.others332 = 0;
  }
}

const STANZA = /<(presence|message)[\s/>]/g;
const HAS_332 = /code=["']332["']/;
const HAS_110 = /code=["']110["']/;

function attr(tag: string, name: string): string | undefined {
  const at = tag.indexOf(` ${name}=`);
  if (at === -1) return undefined;
  const q = tag[at + name.length + 2];
  const start = at + name.length + 3;
  const end = tag.indexOf(q!, start);
  return end === -1 ? undefined : tag.slice(start, end);
}

/**
 * Reads one session's raw stream: top-level presences and messages, whole
 * (what is cut off waits for the next chunk), everything else skipped.
 */
function listen(session: C2sSession, s: number, tally: Tally, pending: boolean): void {
  const slots = new Map<string, number>();
  if (!pending) for (let k = 0; k < ROOMS_PER_SESSION; k++) slots.set(roomOf(s, k), s * ROOMS_PER_SESSION + k);
  let carry = "";
  session.onData = (chunk) => {
    const buf = carry + chunk;
    carry = "";
    STANZA.lastIndex = 0;
    let done = 0;
    for (let hit = STANZA.exec(buf); hit; hit = STANZA.exec(buf)) {
      const start = hit.index;
      const name = hit[1]!;
      const tagEnd = buf.indexOf(">", start);
      if (tagEnd === -1) break;
      let end: number;
      if (buf[tagEnd - 1] === "/") end = tagEnd + 1;
      else {
        const close = buf.indexOf(`</${name}>`, tagEnd);
        if (close === -1) break;
        end = close + name.length + 3;
      }
      done = end;
      STANZA.lastIndex = end;
      const tag = buf.slice(start, tagEnd + 1);
      const inner = buf.slice(tagEnd + 1, end);
      const from = attr(tag, "from") ?? "";
      const slash = from.indexOf("/");
      const room = slash === -1 ? from : from.slice(0, slash);
      const type = attr(tag, "type");
      if (type === "error") {
        if (pending && room === `${PENDING_ROOM}@${MUC}`) {
          tally.pendingErrors++;
          const condition = /<([a-z-]+) xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/.exec(inner)?.[1] ?? "?";
          tally.pendingConditions.set(condition, (tally.pendingConditions.get(condition) ?? 0) + 1);
        } else if (tally.errors.length < 5) tally.errors.push(buf.slice(start, Math.min(end, start + 600)));
        continue;
      }
      const o = slots.get(room);
      if (o === undefined) continue;
      if (name === "presence") {
        const self = HAS_110.test(inner);
        if (type === "unavailable") {
          tally.unavailable++;
          if (!HAS_332.test(inner)) continue;
          if (!self) tally.others332++;
          else if (!tally.bye[o]) {
            tally.bye[o] = 1;
            tally.byeCount++;
            tally.lastByeAt = performance.now();
          }
        } else if (type === undefined && self && !tally.joined[o]) {
          tally.joined[o] = 1;
          tally.joinedCount++;
        }
      } else if (type === "groupchat" && tally.marker !== "" && inner.includes(tally.marker) && !tally.copies[o]) {
        tally.copies[o] = 1;
        tally.copiesCount++;
        tally.lastCopyAt = performance.now();
      }
    }
    const rest = buf.slice(done);
    // A stanza cut off keeps its start; otherwise only what could begin one.
    const open = rest.search(/<(presence|message)[\s/>]/);
    carry = open !== -1 ? rest.slice(open) : rest.slice(-12);
    tally.onProgress();
  };
}

/** Resolves once `done()` holds (checked after every chunk) or after `ms`; says which. */
function until(tally: Tally, done: () => boolean, ms: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      tally.onProgress = () => {};
      resolve(false);
    }, ms);
    tally.onProgress = () => {
      if (!done()) return;
      clearTimeout(timer);
      tally.onProgress = () => {};
      resolve(true);
    };
  });
}

/** Every session joins its rooms, one wave per room slot. */
async function joinAll(sessions: C2sSession[], tally: Tally, label: string): Promise<void> {
  tally.joined.fill(0);
  tally.joinedCount = 0;
  for (let k = 0; k < ROOMS_PER_SESSION; k++) {
    const t0 = performance.now();
    for (let s = 0; s < SESSIONS; s++) {
      sessions[s]!.send(`<presence to='${roomOf(s, k)}/${nick(s)}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
    }
    const target = (k + 1) * SESSIONS;
    const ok = await until(tally, () => tally.joinedCount >= target, WAVE_TIMEOUT_MS);
    assert(ok, `${label}: wave ${k + 1}: ${tally.joinedCount - k * SESSIONS} of ${SESSIONS} joins answered (errors: ${tally.errors.join(" | ") || "none"})`);
    progress(`${label}: wave ${k + 1} of ${ROOMS_PER_SESSION} joined (${SESSIONS.toLocaleString()} joins, ${Math.round(performance.now() - t0)} ms)`);
  }
}

/** One message to each room from one of its members; until every occupant has its copy. */
async function broadcast(sessions: C2sSession[], tally: Tally, marker: string): Promise<{ ms: number; copies: number }> {
  tally.copies.fill(0);
  tally.copiesCount = 0;
  tally.marker = marker;
  const t0 = performance.now();
  // Session g is a member of every room of group g.
  for (let g = 0; g < GROUPS; g++) {
    for (let k = 0; k < ROOMS_PER_SESSION; k++) sessions[g]!.send(`<message type='groupchat' to='${roomOf(g, k)}'><body>${marker}</body></message>`);
  }
  await until(tally, () => tally.copiesCount >= OCCUPANTS, WAVE_TIMEOUT_MS);
  return { ms: (tally.copiesCount > 0 ? tally.lastCopyAt : performance.now()) - t0, copies: tally.copiesCount };
}

async function occupantsMetric(m: MucgateProcess): Promise<number> {
  const text = await (await fetch(`${m.httpUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("mucgate_occupants "));
  return line ? Number(line.split(" ")[1]) : NaN;
}

const stoppedLine = (m: MucgateProcess) => m.json().find((r) => r.msg === "mucgate stopped");

export async function shutdownBench(): Promise<BenchResult> {
  if (Bun.which("prosody") === null) throw new Error("prosody is not installed (bun scripts/ensure-servers.ts prosody installs it)");
  assert(SESSIONS >= ROOM_SIZE && ROOMS_PER_SESSION >= 1, "at least one full room");
  const cleanups: (() => unknown)[] = [];
  try {
    progress("starting Prosody, the auth service (it hangs, for one room only)");
    const prosody = await startProsody({ components: [{ domain: MUC }] });
    cleanups.push(() => prosody.stop());
    const auth = startAuthServer({ behaviour: hang() });
    cleanups.push(() => auth.stop());
    const accounts = Array.from({ length: SESSIONS + PENDING }, (_, i) => ({ user: user(i), password: PASSWORD }));
    prosody.registerMany(accounts);

    progress(`logging in ${(SESSIONS + PENDING).toLocaleString()} c2s sessions (not timed)`);
    const all = await openSessions(accounts, { host: prosody.host, port: prosody.c2sPort, domain: "localhost", concurrency: 50, timeoutMs: 60_000 });
    cleanups.push(() => all.forEach((s) => s.close()));
    const sessions = all.slice(0, SESSIONS);
    const pendingSessions = all.slice(SESSIONS);
    const tally = new Tally();
    sessions.forEach((s, i) => listen(s, i, tally, false));
    pendingSessions.forEach((s, i) => listen(s, SESSIONS + i, tally, true));

    const base = {
      log_level: "info",
      // Only the pending room asks the (hanging) backend; every other join is admitted at once.
      muc_http_auth_enabled_for: { all: [PENDING_ROOM] },
      // Restored sessions are all checked within seconds (part 2), not over a minute at 200/s.
      muc_session_check_rate: 5_000,
    };

    // ---- Part 1: 332 to everyone ------------------------------------------------
    const a = await startMucgate({ prosody, authUrl: auth.url, config: { ...base, muc_keep_occupants_on_restart: false } });
    cleanups.push(() => a.stop("SIGKILL"));
    await joinAll(sessions, tally, "332 run");
    assert((await occupantsMetric(a)) === OCCUPANTS, `mucgate counts ${OCCUPANTS} occupants`);

    progress(`baseline: one message to each of the ${(GROUPS * ROOMS_PER_SESSION).toLocaleString()} rooms, until all ${OCCUPANTS.toLocaleString()} copies arrived`);
    const baseline = await broadcast(sessions, tally, "markbefore");
    assert(baseline.copies === OCCUPANTS, `baseline broadcast: ${baseline.copies} of ${OCCUPANTS} copies`);

    const asked = auth.requests.length;
    for (const [i, s] of pendingSessions.entries()) {
      s.send(`<presence to='${PENDING_ROOM}@${MUC}/${nick(SESSIONS + i)}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    }
    await auth.waitForRequests(asked + PENDING, 10_000);

    progress("SIGTERM (332 to everyone)");
    tally.resetCounters();
    const meter = new CpuMeter({ prosody: prosody.pid });
    const cpuBefore = meter.read();
    const t0 = performance.now();
    process.kill(a.pid, "SIGTERM");
    const exitCode = await a.exited;
    const exitMs = performance.now() - t0;
    const cpu = meter.since(cpuBefore);
    // Prosody may still be routing what it read before the stream ended.
    await until(tally, () => tally.byeCount >= OCCUPANTS && tally.pendingErrors >= PENDING, SETTLE_MS);
    const lastByeMs = tally.lastByeAt > t0 ? tally.lastByeAt - t0 : NaN;
    const stopped = stoppedLine(a);
    const received332 = tally.byeCount;
    const others332 = tally.others332;
    const pendingAnswered = tally.pendingErrors;
    const pendingConditions = [...tally.pendingConditions].map(([c, n]) => `${n}× ${c}`).join(", ") || "none";
    if (received332 < OCCUPANTS || !stopped) process.stderr.write(`${a.output().slice(-3000)}\n`);
    const notified = Number(stopped?.occupantsNotified ?? NaN);
    const flushed = Number(stopped?.stanzasFlushed ?? NaN);
    await a.stop();

    // ---- Part 2: the default, occupants kept over a restart --------------------------
    const b = await startMucgate({ prosody, authUrl: auth.url, config: base });
    cleanups.push(() => b.stop("SIGKILL"));
    await joinAll(sessions, tally, "restart run");
    progress("SIGTERM (occupants kept), then start again on the same storage");
    tally.resetCounters();
    let keepExit = { code: NaN, ms: NaN };
    const t1 = performance.now();
    await b.restart({
      whileStopped: async (code) => {
        keepExit = { code, ms: performance.now() - t1 };
      },
    });
    const restartMs = performance.now() - t1 - keepExit.ms;
    const keptLine = b.json().find((r) => r.msg === "mucgate stopped");
    const back = await occupantsMetric(b);
    await b.waitForLog((l) => l.includes('"occupant sessions checked"'), 60_000).catch(() => undefined);
    const after = await broadcast(sessions, tally, "markafter");
    const unavailableAcross = tally.unavailable;

    return {
      title: `Graceful stop — ${OCCUPANTS.toLocaleString()} occupants (${SESSIONS.toLocaleString()} sessions × ${ROOMS_PER_SESSION} rooms of ${ROOM_SIZE}), SIGTERM, through Prosody`,
      rows: [
        { figure: `332s received / ${OCCUPANTS.toLocaleString()}`, value: received332, unit: "count", target: { op: "=", value: OCCUPANTS } },
        { figure: `pending joins answered / ${PENDING}`, value: pendingAnswered, unit: "count", target: { op: "=", value: PENDING } },
        { figure: "exit code after SIGTERM", value: exitCode, unit: "count", target: { op: "=", value: 0 } },
        {
          figure: "time from SIGTERM to exit",
          value: exitMs,
          unit: "ms",
          baseline: { name: `one message to every room: ${OCCUPANTS.toLocaleString()} copies delivered`, value: baseline.ms },
        },
        { figure: "log's occupantsNotified vs clients' 332s", value: notified, unit: "count", target: { op: "=", value: received332 } },
        { figure: `occupants back after restart (/metrics)`, value: back, unit: "count", target: { op: "=", value: OCCUPANTS } },
        { figure: "message copies after restart", value: after.copies, unit: "count", target: { op: "=", value: OCCUPANTS } },
        { figure: "unavailable presences seen across the restart", value: unavailableAcross, unit: "count", target: { op: "=", value: 0 } },
      ],
      notes: [
        `Stop with 332s: the last 332 arrived ${Math.round(lastByeMs)} ms after the signal; Prosody used ${cpu.prosody!.toFixed(2)} s of CPU until the exit. The log: ${JSON.stringify(stopped ? { occupantsNotified: stopped.occupantsNotified, notificationsLost: stopped.notificationsLost, pendingEntriesRefused: stopped.pendingEntriesRefused, stanzasFlushed: stopped.stanzasFlushed, stanzasLost: stopped.stanzasLost } : "no 'mucgate stopped' line")}; the clients got ${received332.toLocaleString()} self-presences with 332, ${others332.toLocaleString()} copies of others' 332 and ${pendingAnswered} join refusals (${pendingConditions}): ${(received332 + others332 + pendingAnswered).toLocaleString()} stanzas against ${Number.isFinite(flushed) ? flushed.toLocaleString() : "?"} flushed.`,
        `Stop keeping the occupants: exit ${keepExit.code} after ${Math.round(keepExit.ms)} ms (${JSON.stringify(keptLine ? { occupantsKept: keptLine.occupantsKept, stanzasFlushed: keptLine.stanzasFlushed, stanzasLost: keptLine.stanzasLost } : "no 'mucgate stopped' line")}); start on the same storage until online ${Math.round(restartMs)} ms; then every session checked (${5000}/s) and one message to each room: ${after.copies.toLocaleString()} copies in ${Math.round(after.ms)} ms.`,
        `The baseline is the same number of stanzas (one per occupant) over the same path (mucgate → component stream → Prosody → c2s), caused by ${GROUPS * ROOMS_PER_SESSION} messages instead of a signal.`,
      ],
    };
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  }
}

if (import.meta.main) await runStandalone(shutdownBench);
