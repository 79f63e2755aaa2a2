/**
 * Graceful shutdown (XEP-0045 §15.7.2 "system shutdown") of a real mucgate
 * process on SIGTERM and SIGINT: every session of every occupant in every
 * room gets its unavailable presence with status 332 (and 110), through a
 * real Prosody — so the stanzas really left the socket before the stream
 * closed — the process exits 0 well within 5 s, the HTTP API goes away, a
 * join still waiting for the gate is refused, and a join racing the signal
 * is either refused or complete (self-presence, subject, then its 332), never
 * half-applied.
 */
import { describe, expect, test } from "bun:test";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { hang } from "./harness/auth-server.ts";
import { joinPresence, stanzaError, statusCodes, type Element, type TestClient } from "./harness/client.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { freePort } from "./harness/ports.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";

const CROWD = Array.from({ length: 10 }, (_, i) => `user${i}`);
const SHUTDOWN_LIMIT_MS = 5000;

const mucgates: MucgateProcess[] = [];

// mucgate is started per test (launch), on this file's Prosody and auth service.
const rig = useRig({
  mucgates: {},
  afterEach: async () => {
    for (const m of mucgates.splice(0)) await m.stop("SIGKILL");
  },
});

async function launch(): Promise<MucgateProcess> {
  // Cache off: every join asks the gate, so tests control each one. 332 on stop (§15.7.2), not the default restart that keeps occupants.
  const m = await startMucgate({
    prosody: rig.prosody,
    authUrl: rig.auth.url,
    config: { muc_http_auth_cache_ttl: 0, muc_http_auth_negative_cache_ttl: 0, muc_keep_occupants_on_restart: false },
  });
  mucgates.push(m);
  return m;
}

const isSubject = (room: string) => (s: Element) => s.name === "message" && s.attrs.from === room && s.getChild("subject") !== undefined;
const selfPresence = (occupant: string) => (s: Element) =>
  s.name === "presence" && s.attrs.type !== "unavailable" && s.attrs.type !== "error" && s.attrs.from === occupant && statusCodes(s).includes(110);
const shutdownPresence = (occupant: string) => (s: Element) =>
  s.name === "presence" && s.attrs.type === "unavailable" && s.attrs.from === occupant && statusCodes(s).includes(332);

async function enter(c: TestClient, occupant: string): Promise<void> {
  const room = occupant.split("/")[0]!;
  const since = c.mark();
  await c.send(joinPresence(occupant));
  await c.waitFor(selfPresence(occupant), { since });
  await c.waitFor(isSubject(room), { since });
}

async function healthAnswers(m: MucgateProcess): Promise<boolean> {
  try {
    await fetch(`${m.httpUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  describe(signal, () => {
    test(`every session in every room gets 332, a pending join is refused, exit 0 within ${SHUTDOWN_LIMIT_MS} ms, HTTP gone`, async () => {
      const m = await launch();
      const d = rig.prosody.componentDomain;
      const roomA = `alpha@${d}`;
      const roomB = `beta@${d}`;

      // alice: two sessions in one nick; bob: one session in two rooms; a crowd across both rooms.
      const alice1 = await rig.client("alice");
      const alice2 = await rig.client("alice");
      const bob = await rig.client("bob");
      const crowd = await Promise.all(CROWD.map((user) => rig.client(user)));
      await enter(alice1, `${roomA}/alice`);
      await enter(alice2, `${roomA}/alice`);
      await enter(bob, `${roomA}/bob`);
      await enter(bob, `${roomB}/bob`);
      const expected: [TestClient, string][] = [
        [alice1, `${roomA}/alice`],
        [alice2, `${roomA}/alice`],
        [bob, `${roomA}/bob`],
        [bob, `${roomB}/bob`],
      ];
      for (const [i, c] of crowd.entries()) {
        const occupant = `${i % 2 ? roomB : roomA}/${CROWD[i]}`;
        await enter(c, occupant);
        expected.push([c, occupant]);
      }

      // carol's join waits for the gate when the signal comes.
      const carol = await rig.client("carol");
      rig.auth.setBehaviour(hang());
      const asked = rig.auth.requests.length;
      await carol.send(joinPresence(`${roomA}/carol`));
      await rig.auth.waitForRequests(asked + 1);

      const marks = new Map([alice1, alice2, bob, ...crowd, carol].map((c) => [c, c.mark()]));
      const t0 = performance.now();
      process.kill(m.pid, signal);
      const code = await m.exited;
      const elapsed = performance.now() - t0;
      expect(code).toBe(0);
      expect(elapsed).toBeLessThan(SHUTDOWN_LIMIT_MS);

      for (const [c, occupant] of expected) {
        const p = await c.waitFor(shutdownPresence(occupant), { since: marks.get(c)! });
        expect(statusCodes(p)).toEqual(expect.arrayContaining([110, 332]));
        expect(p.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs.role).toBe("none");
      }

      // carol was refused, not admitted: an error for her join, and no trace of her in the room.
      const refusal = await carol.waitFor({ name: "presence", type: "error", from: `${roomA}/carol` });
      expect(stanzaError(refusal)).toMatchObject({ condition: "service-unavailable" });
      expect(carol.stanzas.some(selfPresence(`${roomA}/carol`))).toBe(false);
      for (const c of [alice1, bob, ...crowd]) expect(c.stanzas.some((s) => s.attrs.from === `${roomA}/carol`)).toBe(false);

      expect(await healthAnswers(m)).toBe(false);
      const records = m.json();
      expect(records.find((r) => r.msg === "shutting down")).toMatchObject({ signal });
      expect(records.at(-1)).toMatchObject({ msg: "mucgate stopped", occupantsNotified: expect.any(Number) });
    }, 30_000);
  });
}

describe("without a server to say goodbye through", () => {
  async function stopsPromptly(m: MucgateProcess): Promise<void> {
    const t0 = performance.now();
    process.kill(m.pid, "SIGTERM");
    expect(await m.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(SHUTDOWN_LIMIT_MS);
    expect(m.json().at(-1)).toMatchObject({ msg: "mucgate stopped" });
  }

  test("SIGTERM while the XMPP server is unreachable (between retries): exit 0 at once", async () => {
    const port = await freePort(); // nothing listens there
    const m = await startMucgate({
      prosody: { componentDomain: rig.prosody.componentDomain, componentSecret: "x", componentService: `xmpp://127.0.0.1:${port}` },
      authUrl: rig.auth.url,
      waitForOnline: false,
    });
    mucgates.push(m);
    await m.waitForLog("component offline", 5000);
    await stopsPromptly(m);
  });

  test("SIGTERM while connecting to a server that accepts and never answers: exit 0 within the limit", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const m = await startMucgate({
        prosody: { componentDomain: rig.prosody.componentDomain, componentSecret: "x", componentService: `xmpp://127.0.0.1:${port}` },
        authUrl: rig.auth.url,
        waitForOnline: false,
      });
      mucgates.push(m);
      await waitUntil(() => sockets.size > 0, { timeout: 5000, describe: () => `mucgate never connected:\n${m.output()}` });
      await stopsPromptly(m);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe("a join racing the signal", () => {
  test("is refused or complete — self-presence, subject, then its 332 — never half-applied", async () => {
    const d = rig.prosody.componentDomain;
    const outcomes: string[] = [];
    // The join leaves the client this many ms before the signal (negative: after).
    for (const lead of [20, 5, 1, 0, -1, -5]) {
      const m = await launch();
      const room = `race${outcomes.length}@${d}`;
      const alice = await rig.client("alice");
      const racer = await rig.client("racer");
      await enter(alice, `${room}/alice`);
      const occupant = `${room}/racer`;
      const since = racer.mark();

      if (lead >= 0) {
        await racer.send(joinPresence(occupant));
        if (lead > 0) await Bun.sleep(lead);
        process.kill(m.pid, "SIGTERM");
      } else {
        process.kill(m.pid, "SIGTERM");
        await Bun.sleep(-lead);
        await racer.send(joinPresence(occupant));
      }
      expect(await m.exited).toBe(0);
      // Everything Prosody had for racer by now has been delivered (it handles a session in order).
      await racer.sync();

      const got = racer.stanzas.slice(since).filter((s) => s.attrs.from?.startsWith(room));
      const self = got.findIndex(selfPresence(occupant));
      if (self >= 0) {
        const subject = got.findIndex(isSubject(room));
        const bye = got.findIndex(shutdownPresence(occupant));
        expect(subject).toBeGreaterThan(self);
        expect(bye).toBeGreaterThan(subject);
        outcomes.push("admitted");
      } else {
        // Not admitted: nothing about the room but one error for the join —
        // mucgate's refusal (service-unavailable), or, once the component is
        // gone, the server's bounce (Prosody: remote-server-timeout).
        expect(got.every((s) => s.name === "presence" && s.attrs.type === "error")).toBe(true);
        expect(got.length).toBeLessThanOrEqual(1);
        const condition = got[0] ? stanzaError(got[0])?.condition : undefined;
        if (condition !== undefined) expect(["service-unavailable", "remote-server-timeout"]).toContain(condition);
        outcomes.push(condition ?? "nothing");
      }
      mucgates.splice(mucgates.indexOf(m), 1);
      await m.stop();
      for (const c of [alice, racer]) await c.stop();
    }
    // Informational: which outcomes this machine produced.
    console.log(`join racing SIGTERM: ${outcomes.join(", ")}`);
  }, 30_000);
});
