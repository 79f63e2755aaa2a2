/**
 * Outages mucgate must ride out without exiting:
 * - the real Prosody restarting (SIGTERM) or crashing (SIGKILL) on the same
 *   ports: /health says 503 with the link's state while it is gone, mucgate
 *   reconnects by itself, and the rooms it kept in memory (subject, history)
 *   are there for the clients that come back;
 * - a longer outage (a TCP relay between mucgate and Prosody that we cut and
 *   restore): the retries back off — growing, jittered, under the cap — and
 *   the backoff starts over after a success;
 * - the authorization service going away: joins fail closed (not-authorized),
 *   the component stays online, and joins pass again once it is back.
 *
 * The rig's Prosody runs without mod_posix (which is what turns SIGTERM into a
 * graceful shutdown), so its SIGTERM, like SIGKILL, ends it at once: it never
 * tells mucgate that its users went away. After the reconnect mucgate checks
 * every session it holds (an XEP-0199 ping from the room); the dead ones
 * leave with 333, and a persistent room waits in storage for its users.
 * A graceful server may report the leaves first: ops-ejabberd.test.ts covers
 * that case with ejabberd's SIGTERM.
 */
import { describe, expect, test } from "bun:test";
import { createServer, connect, type Server, type Socket } from "node:net";
import { groupchat, joinPresence, stanzaError, xml, type Element } from "./harness/client.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { freePort } from "./harness/ports.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";

/** The component connection's backoff (src/xmpp/backoff.ts defaults). */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

// mucgate is started per test (launch), on this file's Prosody and auth service.
const rig = useRig({ mucgates: {} });

async function launch(options: Partial<Parameters<typeof startMucgate>[0]> = {}): Promise<MucgateProcess> {
  const m = await startMucgate({ prosody: rig.prosody, authUrl: rig.auth.url, ...options });
  rig.afterTest(() => m.stop("SIGKILL"));
  return m;
}

const isSubject = (s: Element) => s.name === "message" && s.getChild("subject") !== undefined && s.getChild("body") === undefined;

async function health(m: MucgateProcess): Promise<{ status: number; body: { status: string; xmpp: string; storage?: string } }> {
  const r = await m.health();
  return { status: r.status, body: (await r.json()) as { status: string; xmpp: string; storage?: string } };
}

async function waitOnline(m: MucgateProcess, timeout = 15_000): Promise<void> {
  await waitUntil(async () => (await health(m)).status === 200, {
    timeout,
    interval: 25,
    describe: () => `mucgate did not come back online.\nmucgate:\n${m.output()}\nprosody:\n${rig.prosody.logTail()}`,
  });
}

/** Log records of this process from index `from` on. */
function records(m: MucgateProcess, from = 0): Record<string, unknown>[] {
  return m.json().slice(from);
}

async function gauge(m: MucgateProcess, name: string): Promise<number> {
  const text = await (await fetch(`${m.httpUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics:\n${text}`);
  return Number(line.split(" ")[1]);
}

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  test(`Prosody ${signal === "SIGTERM" ? "restarts" : "crashes (SIGKILL) and comes back"}: 503 while gone, mucgate reconnects, drops the dead sessions, rooms and history kept`, async () => {
    const m = await launch({ config: { muc_room_default_persistent: true } });
    const pid = m.pid;
    const room = `keep-${signal.toLowerCase()}@${rig.prosody.componentDomain}`;
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.waitFor(isSubject);
    await bob.send(joinPresence(`${room}/bob`));
    await bob.waitFor(isSubject);
    await alice.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "kept in memory")));
    await bob.waitFor((s) => isSubject(s) && s.getChildText("subject") === "kept in memory");
    for (const body of ["first", "second"]) {
      await alice.send(groupchat(room, body));
      await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === body);
    }
    const logged = m.json().length;

    const restarting = rig.prosody.restart({ signal });
    // mucgate notices at once and schedules a retry (≥ base/2 later): /health says so meanwhile.
    const offline = JSON.parse(await m.waitForLog((l) => l.includes("component offline"), 10_000)) as Record<string, unknown>;
    expect(offline).toMatchObject({ level: "warn", attempt: 1 });
    expect(offline.reason).toMatch(/stream lost/);
    const down = await health(m);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("unavailable");
    expect(["offline", "connecting"]).toContain(down.body.xmpp);
    await restarting;

    await waitOnline(m);
    expect(await health(m)).toEqual({ status: 200, body: { status: "ok", xmpp: "online", storage: "ok" } });
    expect(m.exitCode).toBeNull();
    expect(m.pid).toBe(pid);
    expect(records(m, logged).some((r) => r.msg === "component online")).toBe(true);
    // Prosody cut alice and bob: the check after the reconnect finds both sessions gone.
    await waitUntil(async () => (await gauge(m, "mucgate_occupants")) === 0, { timeout: 10_000, describe: () => m.output() });
    expect(records(m, logged).some((r) => r.msg === "checking occupant sessions" && r.sessions === 2)).toBe(true);

    // Clients come back (Prosody cut them), rejoin, and find the room as it was.
    const alice2 = await rig.client("alice");
    const carol = await rig.client("carol");
    for (const [c, nick] of [
      [alice2, "alice"],
      [carol, "carol"],
    ] as const) {
      await c.send(joinPresence(`${room}/${nick}`));
      const history = [
        await c.waitFor((s) => s.name === "message" && s.getChildText("body") === "first"),
        await c.waitFor((s) => s.name === "message" && s.getChildText("body") === "second"),
      ];
      for (const h of history) expect(h.getChild("delay", "urn:xmpp:delay")).toBeDefined();
      expect((await c.waitFor(isSubject)).getChildText("subject")).toBe("kept in memory");
    }
    await alice2.send(groupchat(room, "after"));
    await carol.waitFor((s) => s.name === "message" && s.getChildText("body") === "after");
    // Nobody saw the dead bob: he was gone before they came back.
    expect(carol.stanzas.some((s) => s.name === "presence" && s.attrs.from === `${room}/bob`)).toBe(false);
  }, 30_000);
}

/** A TCP relay to Prosody's component port that can be cut (refusing connections) and restored on the same port. */
class Relay {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  constructor(
    readonly port: number,
    readonly target: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect({ host: "127.0.0.1", port: this.target });
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
  }

  /** Close the listener (new connections are refused) and every relayed connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test("a longer outage: retries back off (growing, jittered, within the capped bounds), mucgate serves again, and the backoff starts over", async () => {
  const relay = new Relay(await freePort(), rig.prosody.componentPort);
  await relay.open();
  rig.afterTest(() => relay.cut());
  const m = await launch({
    prosody: { componentDomain: rig.prosody.componentDomain, componentSecret: rig.prosody.componentSecret, componentService: `xmpp://127.0.0.1:${relay.port}` },
  });
  const pid = m.pid;
  const room = `outage@${rig.prosody.componentDomain}`;
  const alice = await rig.client("alice");
  await alice.send(joinPresence(`${room}/alice`));
  await alice.waitFor(isSubject);

  const before = m.json().length;
  await relay.cut();
  const retries = () => records(m, before).filter((r) => r.msg !== undefined && String(r.msg).startsWith("component offline"));
  await waitUntil(() => retries().length >= 3, { timeout: 10_000, describe: () => `fewer than 3 retries:\n${m.output()}` });
  expect((await health(m)).status).toBe(503);

  const seen = retries().slice(0, 3);
  expect(seen.map((r) => r.attempt)).toEqual([1, 2, 3]);
  expect(seen[0]!.reason).toMatch(/stream lost/);
  for (const r of seen.slice(1)) expect(r.reason).toMatch(/connection refused/);
  const delays = seen.map((r) => r.retryInMs as number);
  for (const [i, delay] of delays.entries()) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** i);
    expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
    expect(delay).toBeLessThanOrEqual(ceiling);
  }
  // Jittered: not the bare exponential sequence (each equal to its ceiling or its floor has probability ~0).
  expect(delays.some((d, i) => d !== BACKOFF_BASE_MS * 2 ** i && d !== (BACKOFF_BASE_MS * 2 ** i) / 2)).toBe(true);
  // No secret in any of these lines.
  for (const r of seen) expect(JSON.stringify(r)).not.toContain(rig.prosody.componentSecret);

  await relay.open();
  await waitOnline(m);
  expect(m.pid).toBe(pid);
  expect(m.exitCode).toBeNull();

  // The room is still served: a newcomer joins, alice (cut off from mucgate, not from Prosody) is still in it.
  const bob = await rig.client("bob");
  await bob.send(joinPresence(`${room}/bob`));
  await bob.waitFor({ name: "presence", from: `${room}/alice` });
  await bob.waitFor(isSubject);
  await alice.waitFor({ name: "presence", from: `${room}/bob` });

  // After a success the backoff starts over: the next loss retries within the first step.
  const again = m.json().length;
  await relay.cut();
  await waitUntil(() => records(m, again).some((r) => String(r.msg ?? "").startsWith("component offline")), {
    timeout: 5000,
    describe: () => m.output(),
  });
  const first = records(m, again).find((r) => String(r.msg ?? "").startsWith("component offline"))!;
  expect(first.attempt).toBe(1);
  expect(first.retryInMs as number).toBeLessThanOrEqual(BACKOFF_BASE_MS);
  await relay.open();
  await waitOnline(m);
}, 40_000);

describe("the authorization service goes away", () => {
  test("joins fail closed (not-authorized), the component stays online, and joins pass again when it is back", async () => {
    // Our own tiny service on a fixed port, so it can come back where mucgate looks for it.
    const port = await freePort();
    const serve = () =>
      Bun.serve({ hostname: "127.0.0.1", port, fetch: () => Response.json({ allowed: true }) });
    let service = serve();
    rig.afterTest(async () => service.stop(true));
    const m = await launch({
      authUrl: `http://127.0.0.1:${port}/auth`,
      config: { muc_http_auth_cache_ttl: 0, muc_http_auth_negative_cache_ttl: 0, muc_http_auth_timeout: 2 },
    });
    const room = `gate-outage@${rig.prosody.componentDomain}`;
    const alice = await rig.client("alice");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.waitFor(isSubject);

    await service.stop(true);
    const bob = await rig.client("bob");
    await bob.send(joinPresence(`${room}/bob`));
    const refused = await bob.waitFor({ name: "presence", type: "error" });
    expect(stanzaError(refused)).toMatchObject({ type: "auth", condition: "not-authorized" });
    await alice.expectNothing((s) => s.attrs.from === `${room}/bob`, 200);
    const denial = m.json().find((r) => r.msg === "join denied" && r.user === "bob@localhost");
    expect(denial).toMatchObject({ level: "info", room, nick: "bob", failure: true });
    expect(await health(m)).toEqual({ status: 200, body: { status: "ok", xmpp: "online", storage: "ok" } });
    expect(m.exitCode).toBeNull();
    // Everything else still works meanwhile.
    await alice.send(groupchat(room, "still here"));
    await alice.waitFor((s) => s.name === "message" && s.getChildText("body") === "still here");

    service = serve();
    // Failures are never cached: the same user, room and nick pass now.
    const bob2 = await rig.client("bob");
    await bob2.send(joinPresence(`${room}/bob`));
    await bob2.waitFor(isSubject);
    await alice.waitFor({ name: "presence", from: `${room}/bob` });
    expect(m.exitCode).toBeNull();
  }, 20_000);
});
