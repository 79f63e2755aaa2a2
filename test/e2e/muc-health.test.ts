/**
 * `GET /health` (README "HTTP API"): 200 while the component link is up,
 * 503 with the link's state otherwise — before the first connection, after a
 * lost one, and back to 200 once mucgate reconnects. And what an outage of
 * the XMPP server leaves behind: occupants whose sessions died with it, which
 * the server's bounces then remove (status 333). And 503 "degraded" while
 * storage commits fail, on a disk really full (a small tmpfs).
 *
 * File-local servers: these tests take links down on purpose.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { groupchat } from "./harness/client.ts";
import { createServer, connect, type Server, type Socket } from "node:net";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { freePort } from "./harness/ports.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";
import { aliceAndBob, groupchatFrom, join, presenceFrom } from "./muc-fixture.ts";

// mucgate is started per test, on this file's Prosody and auth service.
const rig = useRig({ mucgates: {} });

async function health(mucgate: MucgateProcess): Promise<{ status: number; body: { status?: string; xmpp?: string; storage?: string } }> {
  const res = await mucgate.health();
  return { status: res.status, body: (await res.json()) as { status?: string; xmpp?: string; storage?: string } };
}

/** A 4 MiB tmpfs to fill up (a full disk, for real); undefined where mounting is not allowed. */
function smallDisk(): string | undefined {
  const dir = mkdtempSync(joinPath(tmpdir(), "mucgate-full-disk-"));
  if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir]).status === 0) return dir;
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}
const disk = smallDisk();
afterAll(() => {
  if (disk === undefined) return;
  spawnSync("umount", ["-l", disk]);
  rmSync(disk, { recursive: true, force: true });
});

/** Poll /health until `want` (the HTTP server may not listen yet; mucgate retries with backoff). */
async function healthBecomes(mucgate: MucgateProcess, want: number, timeout = 15_000) {
  let last = "no answer";
  return waitUntil(
    async () => {
      try {
        const h = await health(mucgate);
        last = `${h.status} ${JSON.stringify(h.body)}`;
        return h.status === want ? h : false;
      } catch (err) {
        last = (err as Error).message;
        return false;
      }
    },
    { timeout, interval: 20, describe: () => `/health never answered ${want} (last: ${last}).\n${mucgate.output()}` },
  );
}

/**
 * A TCP relay in front of Prosody's component port that the test opens and
 * closes: "nothing listens", "the link is up", "the link broke" on demand,
 * with Prosody itself running throughout.
 */
interface Relay {
  readonly port: number;
  open(): Promise<void>;
  /** Stop listening and cut every relayed connection. */
  close(): Promise<void>;
}

async function relayTo(targetPort: number): Promise<Relay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const relay: Relay = {
    port,
    open() {
      server = createServer((downstream) => {
        const upstream = connect({ host: "127.0.0.1", port: targetPort });
        for (const s of [downstream, upstream]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => {
            sockets.delete(s);
            downstream.destroy();
            upstream.destroy();
          });
        }
        downstream.pipe(upstream);
        upstream.pipe(downstream);
      });
      return new Promise((resolve, reject) => {
        server!.once("error", reject);
        server!.listen({ host: "127.0.0.1", port }, () => resolve());
      });
    },
    async close() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  return relay;
}

describe("GET /health", () => {
  test("200 {status: ok, xmpp: online} while connected", async () => {
    const mucgate = await startMucgate({ prosody: rig.prosody, authUrl: rig.auth.url });
    rig.afterTest(() => mucgate.stop());
    const h = await health(mucgate);
    expect(h).toEqual({ status: 200, body: { status: "ok", xmpp: "online", storage: "ok" } });
  });

  test("503 with the state while nothing listens on the component port, 200 once it can connect, 503 again when the link breaks", async () => {
    const relay = await relayTo(rig.prosody.componentPort);
    rig.afterTest(() => relay.close());
    const mucgate = await startMucgate({
      prosody: { ...rig.prosody.slot(rig.prosody.componentDomain), componentService: `xmpp://127.0.0.1:${relay.port}` },
      authUrl: rig.auth.url,
      waitForOnline: false,
    });
    rig.afterTest(() => mucgate.stop());

    const down = await healthBecomes(mucgate, 503);
    expect(down.body.status).toBe("unavailable");
    expect(["offline", "connecting"]).toContain(down.body.xmpp!);
    // It says why, and keeps trying.
    await mucgate.waitForLog(/component offline: connection refused/);

    await relay.open();
    expect((await healthBecomes(mucgate, 200)).body).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
    // Really online: a client can use the service.
    const alice = await rig.client("alice");
    await join(alice, `health-1@${rig.prosody.componentDomain}`, "Alice");

    await relay.close();
    const lost = await healthBecomes(mucgate, 503);
    expect(lost.body.status).toBe("unavailable");
    expect(["offline", "connecting"]).toContain(lost.body.xmpp!);
    await mucgate.waitForLog(/component offline: stream lost/);

    await relay.open();
    expect((await healthBecomes(mucgate, 200)).body).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
    expect(mucgate.exitCode).toBeNull();
  });
});

describe("the XMPP server goes away and comes back", () => {
  test("503 while Prosody is down, 200 after its restart; the sessions that died with it are found by the check after the reconnect and removed", async () => {
    const mucgate = await startMucgate({ prosody: rig.prosody, authUrl: rig.auth.url });
    rig.afterTest(() => mucgate.stop());
    const room = `outage-1@${rig.prosody.componentDomain}`;
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");

    // Prosody stops (its own process, started by this file).
    process.kill(rig.prosody.pid!, "SIGTERM");
    const down = await healthBecomes(mucgate, 503);
    expect(["offline", "connecting"]).toContain(down.body.xmpp!);

    await rig.prosody.restart();
    expect((await healthBecomes(mucgate, 200)).body).toEqual({ status: "ok", xmpp: "online", storage: "ok" });

    // Every client was cut, but their unavailable presences never reached
    // mucgate (its link went down with Prosody). Once online again it pings
    // every session it holds from its room (XEP-0199); Prosody answers for
    // the dead ones with an error, and they leave (333) — no ghosts.
    await mucgate.waitForLog((l) => l.includes("checking occupant sessions") && l.includes('"sessions":2'), 5000);
    await waitUntil(async () => (await fetch(`${mucgate.httpUrl}/metrics`).then((r) => r.text())).includes("\nmucgate_occupants 0"), {
      timeout: 5000,
      describe: () => mucgate.output(),
    });

    // A newcomer does not see them, and Bob may come back under his nick.
    const carol = await rig.client("carol");
    const carolJoin = await join(carol, room, "Carol");
    expect(carolJoin.received.some(presenceFrom(`${room}/Bob`))).toBe(false);
    expect(carolJoin.received.some(presenceFrom(`${room}/Alice`))).toBe(false);
    const bob2 = await rig.client("bob");
    await join(bob2, room, "Bob");
    await carol.waitFor(presenceFrom(`${room}/Bob`));
  });
});

describe("storage fails", () => {
  test.skipIf(disk === undefined)("503 degraded while the disk is full: chat goes on; 200 once a commit succeeds again", async () => {
    const mucgate = await startMucgate({ prosody: rig.prosody, authUrl: rig.auth.url, config: { storage: `sqlite:${joinPath(disk!, "mucgate.sqlite")}`, muc_log_all_rooms: true } });
    rig.afterTest(() => mucgate.stop("SIGKILL"));
    const { room, alice, bob } = await aliceAndBob(rig, "full-disk");
    expect((await health(mucgate)).status).toBe(200);
    // Fill the disk but for a few pages, then archive until a commit fails.
    const filler = joinPath(disk!, "filler");
    let size = 4 * 1024 * 1024;
    while (size > 0) {
      try {
        writeFileSync(filler, Buffer.alloc(size));
        break;
      } catch {
        size -= 64 * 1024;
      }
    }
    const body = "z".repeat(20_000);
    let degraded: Awaited<ReturnType<typeof health>> | undefined;
    for (let i = 0; i < 60 && degraded === undefined; i++) {
      await alice.send(groupchat(room, `${i} ${body}`));
      await bob.waitFor(groupchatFrom(`${room}/Alice`, `${i} ${body}`)); // sent anyway
      const h = await health(mucgate);
      if (h.status !== 200) degraded = h;
    }
    expect(degraded).toEqual({ status: 503, body: { status: "degraded", xmpp: "online", storage: "failing" } });
    expect(mucgate.json().some((l) => l.msg === "storage commit failed; sending anyway")).toBe(true);
    const metrics = await (await fetch(`${mucgate.httpUrl}/metrics`)).text();
    expect(metrics).toContain("mucgate_storage_failing 1");
    // Room again: the next commit succeeds.
    rmSync(filler);
    await alice.send(groupchat(room, "after"));
    await bob.waitFor(groupchatFrom(`${room}/Alice`, "after"));
    await healthBecomes(mucgate, 200);
  });
});
