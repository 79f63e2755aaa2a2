import { describe, expect, test } from "bun:test";
import { xml, type Element } from "@xmpp/xml";
import { Liveness, type Clock } from "../../src/xmpp/liveness.ts";

/** A clock the test moves by hand; timers fire in order as it passes them. */
class HandClock implements Clock {
  #now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = end;
  }
}

function rig() {
  const clock = new HandClock();
  const pings: Element[] = [];
  const dead: number[] = [];
  let written = 0;
  let paused = false;
  const liveness = new Liveness({
    domain: "rooms.test",
    interval: 30_000,
    timeout: 10_000,
    clock,
    send: (s) => pings.push(s),
    written: () => written,
    paused: () => paused,
    onDead: (ms) => dead.push(ms),
  });
  liveness.start();
  return { clock, pings, dead, liveness, write: (n: number) => (written += n), pause: (on: boolean) => (paused = on) };
}

const stanza = (attrs: Record<string, string>) => xml("message", attrs);

describe("liveness", () => {
  test("a quiet server is pinged, from and to the component's own domain, once per quiet interval", () => {
    const r = rig();
    r.clock.advance(29_999);
    expect(r.pings).toHaveLength(0);
    r.clock.advance(1);
    expect(r.pings).toHaveLength(1);
    expect(r.pings[0]!.attrs).toMatchObject({ type: "get", from: "rooms.test", to: "rooms.test" });
    expect(r.pings[0]!.getChild("ping", "urn:xmpp:ping")).toBeDefined();
  });

  test("a stanza from the server postpones the ping; the ping coming back keeps the link and goes no further", () => {
    const r = rig();
    r.clock.advance(20_000);
    expect(r.liveness.heard(stanza({ from: "a@b/c", to: "room@rooms.test" }))).toBe(false);
    r.clock.advance(20_000);
    expect(r.pings).toHaveLength(0);
    r.clock.advance(10_000);
    expect(r.pings).toHaveLength(1);
    // A server that routes every ping back: pings every quiet interval, never dead.
    for (let i = 0; i < 10; i++) {
      r.clock.advance(5_000);
      expect(r.liveness.heard(r.pings.at(-1)!)).toBe(true);
      r.clock.advance(30_000);
    }
    expect(r.pings).toHaveLength(11);
    expect(r.dead).toEqual([]);
  });

  test("no answer within the deadline: dead, once, with how long the server was silent", () => {
    const r = rig();
    r.clock.advance(39_999);
    expect(r.dead).toEqual([]);
    r.clock.advance(1);
    expect(r.dead).toEqual([40_000]);
    r.clock.advance(100_000);
    expect(r.dead).toHaveLength(1);
    expect(r.pings).toHaveLength(1);
  });

  test("while we do not read (back-pressure), a server still taking what we wrote is slow, not dead: it gets another deadline", () => {
    const r = rig();
    r.pause(true);
    r.clock.advance(30_000);
    r.write(1000);
    r.clock.advance(10_000);
    expect(r.dead).toEqual([]);
    r.clock.advance(10_000);
    expect(r.dead).toHaveLength(1);
  });

  test("bytes taken by the kernel while we read do not count: a stopped server's socket buffer still takes them", () => {
    const r = rig();
    r.clock.advance(30_000);
    r.write(1000);
    r.clock.advance(10_000);
    expect(r.dead).toHaveLength(1);
  });

  test("stopped, it neither pings nor declares anything", () => {
    const r = rig();
    r.liveness.stop();
    r.clock.advance(100_000);
    expect(r.pings).toEqual([]);
    expect(r.dead).toEqual([]);
  });

  test("another entity's iq with our id prefix is not taken for ours", () => {
    const r = rig();
    expect(r.liveness.heard(xml("iq", { type: "result", id: "mucgate-liveness-1", from: "evil@x", to: "rooms.test" }))).toBe(false);
  });
});
