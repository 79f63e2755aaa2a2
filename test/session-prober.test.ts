import { describe, expect, test } from "bun:test";
import { Element } from "@xmpp/xml";
import { silentLogger } from "../src/log.ts";
import { SessionProber } from "../src/session-prober.ts";

/** Checking restored sessions, paced so that many do not flood the server. */

function rig(sessions: [string, string][], rate: number) {
  const timers: (() => void)[] = [];
  const sent: Element[][] = [];
  const gone = new Set<string>();
  const prober = new SessionProber({
    source: {
      sessions: () => sessions,
      probe: (room, session) => (gone.has(session) ? undefined : new Element("iq", { to: session, from: room })),
    },
    send: (batch) => sent.push(batch),
    rate,
    logger: silentLogger,
    setTimeout: (fn) => timers.push(fn),
    clearTimeout: () => timers.splice(0),
  });
  const tick = () => timers.shift()?.();
  return { prober, sent, gone, timers, tick };
}

const sessions = (n: number): [string, string][] => Array.from({ length: n }, (_, i) => ["r@muc", `u${i}@x/r`] as [string, string]);

describe("the session prober", () => {
  test("sends rate/10 probes every 100 ms until every session was checked once", () => {
    const r = rig(sessions(45), 200);
    r.prober.checkAll();
    expect(r.sent.map((b) => b.length)).toEqual([20]);
    r.tick();
    r.tick();
    expect(r.sent.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(r.timers).toHaveLength(0);
    expect(new Set(r.sent.flat().map((s) => s.attrs.to)).size).toBe(45);
  });

  test("a session that left before its turn is skipped", () => {
    const r = rig(sessions(3), 10);
    r.prober.checkAll();
    r.gone.add("u1@x/r");
    r.tick();
    r.tick();
    expect(r.sent.flat().map((s) => s.attrs.to)).toEqual(["u0@x/r", "u2@x/r"]);
  });

  test("checkAll during a check starts over with the current sessions; stop drops what is left", () => {
    const r = rig(sessions(30), 100);
    r.prober.checkAll();
    expect(r.prober.waiting).toBe(20);
    r.prober.checkAll();
    expect(r.prober.waiting).toBe(30);
    r.prober.stop();
    expect(r.prober.waiting).toBe(0);
    expect(r.timers).toHaveLength(0);
  });

  test("a rate that is not positive is a TypeError", () => {
    expect(() => rig([], 0)).toThrow(TypeError);
  });
});
