/**
 * One room of 1,000 occupants, filled at once through a real Prosody:
 * mucgate (a process of its own, the gate off) against Prosody's own MUC
 * (`Component "conference.localhost" "muc"`) on the same server, same
 * sessions, same run, alternating. 1,000 raw c2s sessions each send one join
 * to the same room; the fill is done when every session has its own
 * presence (status 110). A join into a room of k occupants sends 2k + 2
 * stanzas, so the fill routes about a million stanzas through Prosody
 * either way. Issue 13: the room never finished filling (mucgate queued
 * 149 MB and dropped the link); with back-pressure it fills, and this says
 * how fast against the server's own MUC.
 *
 *   ./node_modules/.bin/bun bench/room-fill.bench.ts    (or: npm run bench -- room-fill)
 */
import { startMucgate } from "../test/e2e/harness/mucgate.ts";
import { startProsody } from "../test/e2e/harness/prosody.ts";
import { openSessions, type C2sSession } from "./support/c2s-driver.ts";
import { CpuMeter } from "./support/cpu-time.ts";
import { assert, median, progress, runStandalone, type BenchResult } from "./support/report.ts";

const USERS = Number(process.env.BENCH_FILL_USERS ?? 1_000);
const REPS = Number(process.env.BENCH_FILL_REPS ?? 2);
/** `mucgate` or `prosody`: fill only one of the two (to look at one alone). */
const ONLY = process.env.BENCH_FILL_ONLY;
const FILL_TIMEOUT_MS = Number(process.env.BENCH_FILL_TIMEOUT_S ?? 600) * 1000;
const PASSWORD = "pw";
const MUCGATE = "rooms.localhost";
const PROSODY_MUC = "conference.localhost";

/** Until every session has seen a self-presence (status 110) of `room` of the wanted kind. */
async function everyone(sessions: C2sSession[], room: string, send: (i: number) => string, unavailable: boolean): Promise<{ ms: number; done: number }> {
  let done = 0;
  const seen = new Array<boolean>(sessions.length).fill(false);
  const finished = new Promise<void>((resolve) => {
    sessions.forEach((s, i) => {
      let tail = "";
      s.onData = (chunk) => {
        if (seen[i]) return;
        const text = tail + chunk;
        tail = text.slice(-4000);
        // The self-presence is the only one carrying 110; a leave's is type='unavailable'.
        for (let at = text.indexOf("code=", 0); at !== -1; at = text.indexOf("code=", at + 5)) {
          if (!text.startsWith("110", at + 6)) continue; // a nick such as u110 is not status 110
          const start = text.lastIndexOf("<presence", at);
          if (start === -1 || !text.startsWith(room, text.indexOf("from=", start) + 6)) continue;
          const head = text.slice(start, text.indexOf(">", start));
          if (head.includes("unavailable") !== unavailable) continue;
          seen[i] = true;
          if (++done === sessions.length) resolve();
          return;
        }
      };
    });
  });
  const t0 = performance.now();
  sessions.forEach((s, i) => s.send(send(i)));
  await Promise.race([finished, Bun.sleep(FILL_TIMEOUT_MS)]);
  return { ms: performance.now() - t0, done };
}

export async function roomFillBench(): Promise<BenchResult> {
  if (Bun.which("prosody") === null) throw new Error("prosody is not installed (bun scripts/ensure-servers.ts prosody installs it)");
  const cleanups: (() => unknown)[] = [];
  try {
    progress("starting Prosody with mucgate's component slot and its own MUC");
    const prosody = await startProsody({
      components: [{ domain: MUCGATE }],
      extraConfig: `Component "${PROSODY_MUC}" "muc"\n  restrict_room_creation = false\n  muc_room_locking = false -- as mucgate: a new room is usable at once (XEP-0045 §10.1.2 instant room)\n  muc_room_default_history_length = 0`,
    });
    cleanups.push(() => prosody.stop());
    prosody.registerMany(Array.from({ length: USERS }, (_, i) => ({ user: `f${i}`, password: PASSWORD })));
    // BENCH_FILL_USERS may exceed the 1,000 new rooms start with (muc_room_default_max_occupants); Prosody's MUC has no limit.
    const mucgate = await startMucgate({ prosody, config: { log_level: process.env.BENCH_FILL_LOG ?? "error", muc_room_default_max_occupants: 0 } });
    cleanups.push(() => mucgate.stop());
    progress(`logging in ${USERS.toLocaleString()} c2s sessions (not timed)`);
    const sessions = await openSessions(
      Array.from({ length: USERS }, (_, i) => ({ user: `f${i}`, password: PASSWORD })),
      { host: prosody.host, port: prosody.c2sPort, domain: "localhost", concurrency: 50 },
    );
    cleanups.push(() => sessions.forEach((s) => s.close()));
    const meter = new CpuMeter({ prosody: prosody.pid, mucgate: mucgate.pid });

    const fills: Record<string, number[]> = { [MUCGATE]: [], [PROSODY_MUC]: [] };
    const cpu: Record<string, string[]> = { [MUCGATE]: [], [PROSODY_MUC]: [] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const domain of [PROSODY_MUC, MUCGATE].filter((d) => ONLY === undefined || d === (ONLY === "mucgate" ? MUCGATE : PROSODY_MUC))) {
        const room = `fill${rep}@${domain}`;
        progress(`${domain}: ${USERS} joins into ${room}`);
        const before = meter.read();
        const join = await everyone(sessions, room, (i) => `<presence to='${room}/u${i}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`, false);
        const used = meter.since(before);
        if (join.done !== USERS) process.stderr.write(`${mucgate.output().slice(-3000)}\n`);
        assert(join.done === USERS, `${domain}: every join answered (${join.done} of ${USERS} within ${FILL_TIMEOUT_MS / 1000} s)`);
        fills[domain]!.push(join.ms);
        cpu[domain]!.push(Object.entries(used).map(([name, s]) => `${name} ${Math.round((100 * s) / (join.ms / 1000))} %`).join(", "));
        const leave = await everyone(sessions, room, (i) => `<presence type='unavailable' to='${room}/u${i}'/>`, true);
        assert(leave.done === USERS, `${domain}: every leave answered (${leave.done})`);
      }
    }
    assert((await mucgate.health()).status === 200, "mucgate still online after the fills");
    const log = mucgate.json();
    const drops = log.filter((l) => String(l.msg).startsWith("component offline")).length;
    const ours = median(fills[MUCGATE]!);
    const theirs = median(fills[PROSODY_MUC]!);
    return {
      title: `Room fill — ${USERS.toLocaleString()} occupants joining one room at once, through Prosody`,
      rows: [
        { figure: `fill time, mucgate (median of ${REPS})`, value: ours, unit: "ms", baseline: { name: "Prosody's own MUC, same server and run", value: theirs } },
        { figure: "joins answered, mucgate", value: USERS, unit: "count", target: { op: "=", value: USERS } },
        { figure: "component link drops", value: drops, unit: "count", target: { op: "=", value: 0 } },
      ],
      notes: [
        `About ${(2 * (USERS * (USERS + 1))).toLocaleString()} presences routed by Prosody per fill (2k + 2 per join into a room of k); the same for its own MUC.`,
        `CPU during the fills (of one core): mucgate's ${cpu[MUCGATE]!.join(" | ")}; Prosody's MUC ${cpu[PROSODY_MUC]!.join(" | ")}.`,
        "The gate is off (no auth backend): this measures routing and back-pressure, not the HTTP gate (see the prosody benchmark).",
      ],
    };
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  }
}

if (import.meta.main) await runStandalone(roomFillBench);
