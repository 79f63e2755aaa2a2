#!/usr/bin/env bun
/**
 * `npm run demo`: a complete local stack on loopback — a private Prosody
 * (installed from Debian packages when absent), mucgate connected to it as
 * its MUC component, and the example authorization service — then a short
 * guided tour with real XMPP clients, and instructions to connect your own.
 *
 * Everything is throwaway: Prosody's config and accounts and mucgate's SQLite
 * database live in temp dirs, and Ctrl-C stops it all. `--exit` stops after
 * the tour (used by the tests).
 *
 * It reuses the end-to-end test rig (test/e2e/harness) for starting Prosody
 * and driving clients, so the demo runs exactly what the tests check.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXAMPLE_POLICY, startExampleAuthService } from "../examples/auth-service.ts";
import { createGate } from "../src/auth/create-gate.ts";
import { parseConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { startMucgate, type Mucgate } from "../src/mucgate.ts";
import { connectClient, joinPresence, stanzaError, statusCodes, groupchat, xml, type TestClient } from "../test/e2e/harness/client.ts";
import { freePort } from "../test/e2e/harness/ports.ts";
import { startProsody, type ProsodyServer } from "../test/e2e/harness/prosody.ts";

const exitAfterTour = process.argv.includes("--exit");
const PASSWORD = "demo";
const USERS = ["alice", "bob", "carol", "admin"];

function say(line = ""): void {
  console.log(line);
}

function ensureProsody(): void {
  const result = spawnSync(process.execPath, ["scripts/ensure-servers.ts", "prosody"], { stdio: "inherit", cwd: `${import.meta.dir}/..` });
  if (result.status !== 0) {
    console.error("demo: Prosody is needed and could not be installed (see above).");
    process.exit(1);
  }
}

async function portFree(port: number): Promise<boolean> {
  try {
    const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    server.stop(true);
    return true;
  } catch {
    return false;
  }
}

async function tour(prosody: ProsodyServer, mucgate: Mucgate, kickAuth: string, restart: () => Promise<Mucgate>): Promise<void> {
  const rooms = prosody.componentDomain;
  const clients: TestClient[] = [];
  const connect = async (username: string) => {
    const c = await connectClient({ server: prosody, username, password: PASSWORD, resource: "demo" });
    clients.push(c);
    return c;
  };
  try {
    say("Tour (real XMPP clients through Prosody):");
    const alice = await connect("alice");
    await alice.send(joinPresence(`lobby@${rooms}/Alice`));
    const self = await alice.waitFor((s) => s.name === "presence" && statusCodes(s).includes(110));
    say(`  ✓ alice joins lobby@${rooms} as Alice — allowed, status ${statusCodes(self).join(" ")} (201 = she created it)`);

    const bob = await connect("bob");
    await bob.send(joinPresence(`lobby@${rooms}/denyBob`));
    const denied = await bob.waitFor({ name: "presence", type: "error" });
    const err = stanzaError(denied);
    say(`  ✗ bob joins as denyBob — refused: <error type='${err?.type}'><${err?.condition}/></error>`);

    await bob.send(joinPresence(`lobby@${rooms}/Bob`));
    await bob.waitFor((s) => s.name === "presence" && statusCodes(s).includes(110));
    say("  ✓ bob joins as Bob — allowed (the decision for Bob is now cached)");

    await alice.send(groupchat(`lobby@${rooms}`, "Hello, Bob!"));
    await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "Hello, Bob!");
    say("  ✓ alice says hello; bob receives it from lobby/Alice");

    const carol = await connect("carol");
    await carol.send(joinPresence(`staff@${rooms}/Carol`));
    await carol.waitFor({ name: "presence", type: "error" });
    say(`  ✗ carol joins staff@${rooms} — refused (staff is for admin* users only)`);

    const kick = await fetch(`${mucgate.httpUrl}/muc_kick`, {
      method: "POST",
      headers: { authorization: kickAuth, "content-type": "application/json" },
      body: JSON.stringify({ nickname: "Bob", muc: `lobby@${rooms}`, reason: "demo kick" }),
    });
    const kicked = await bob.waitFor((s) => s.name === "presence" && s.attrs.type === "unavailable" && statusCodes(s).includes(307));
    say(`  ✓ POST /muc_kick → ${kick.status}; bob gets unavailable with 307 and reason "${kicked.getChild("x")?.getChild("item")?.getChildText("reason")}"`);

    // §10.2 persistentroom, as Gajim's "Create Group Chat" submits it.
    const form = xml(
      "x",
      { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
      xml("field", { var: "muc#roomconfig_persistentroom" }, xml("value", {}, "1")),
      xml("field", { var: "muc#roomconfig_roomname" }, xml("value", {}, "The Lobby")),
    );
    const configured = await alice.iq(xml("iq", { type: "set", to: `lobby@${rooms}` }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, form)));
    say(`  ✓ alice makes lobby persistent and names it "The Lobby" — ${configured.attrs.type}`);

    const mark = alice.mark();
    mucgate = await restart();
    say("  ↻ mucgate stops and starts again (its SQLite database keeps rooms, archive and occupants)");
    await carol.send(joinPresence(`lobby@${rooms}/Carol`));
    const history = await carol.waitFor((s) => s.name === "message" && s.getChildText("body") === "Hello, Bob!");
    const stamp = history.getChild("delay", "urn:xmpp:delay")?.attrs.stamp;
    say(`  ✓ carol joins lobby after the restart and gets its history: "Hello, Bob!" from ${history.attrs.from}, sent ${stamp}`);
    await alice.send(groupchat(`lobby@${rooms}`, "Still here."));
    await carol.waitFor((s) => s.name === "message" && s.getChildText("body") === "Still here.");
    const left = alice.stanzas.slice(mark).some((s) => s.name === "presence" && s.attrs.from === `lobby@${rooms}/Alice`);
    say(`  ✓ alice never left: ${left ? "she saw her own presence again (unexpected)" : "no leave, no rejoin"}; her "Still here." reaches carol`);
  } finally {
    for (const c of clients) await c.stop();
  }
}

async function main(): Promise<void> {
  say("mucgate demo — a Prosody, mucgate and an example authorization service on loopback\n");
  ensureProsody();

  const prosody = await startProsody({ domain: "localhost", components: [{ domain: "rooms.localhost" }], preferredC2sPort: 5222 });
  prosody.registerMany(USERS.map((user) => ({ user, password: PASSWORD })));
  const auth = startExampleAuthService();
  const httpPort = (await portFree(5380)) ? 5380 : await freePort();
  const kickAuth = "Bearer demo-kick-token";
  const dataDir = mkdtempSync(join(tmpdir(), "mucgate-demo-"));
  const config = parseConfig({
    env: {},
    toml: [
      `component_jid = "${prosody.componentDomain}"`,
      `component_secret = "${prosody.componentSecret}"`,
      `component_service = "${prosody.componentService}"`,
      `http_port = ${httpPort}`,
      `http_muc_kick_authorization_header = "${kickAuth}"`,
      `muc_http_auth_url = "http://${auth.hostname}:${auth.port}/auth"`,
      `storage = "sqlite:${join(dataDir, "mucgate.sqlite")}"`,
      `log_level = "warn"`,
    ].join("\n"),
  });
  const logger = createLogger(config.log_level);
  const start = async () => {
    const metrics = new Metrics();
    const m = await startMucgate(config, { logger, metrics, authorizer: createGate(config, { logger, metrics }) });
    for (let i = 0; m.connection.state !== "online"; i++) {
      if (i > 100) throw new Error("mucgate did not come online");
      await Bun.sleep(50);
    }
    return m;
  };
  let mucgate = await start();
  const restart = async () => {
    await mucgate.stop();
    mucgate = await start();
    return mucgate;
  };

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await mucgate.stop();
    auth.stop(true);
    await prosody.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    say(`Prosody   c2s 127.0.0.1:${prosody.c2sPort} (plain, no TLS), users ${USERS.map((u) => `${u}@localhost`).join(", ")}, password "${PASSWORD}"`);
    say(`mucgate   component ${prosody.componentDomain} on Prosody's port ${prosody.componentPort}; HTTP API ${mucgate.httpUrl}`);
    say(`auth      example service http://${auth.hostname}:${auth.port}/auth — its policy:`);
    for (const rule of EXAMPLE_POLICY) say(`            - ${rule}`);
    say(`storage   sqlite:${join(dataDir, "mucgate.sqlite")} (rooms, archive and occupants survive restarts)`);
    say();
    await tour(prosody, mucgate, kickAuth, restart);
  } catch (err) {
    console.error(`demo failed: ${(err as Error).message}`);
    await stop(1);
    return;
  }

  say(`
Connect your own client (Gajim, Dino, Conversations, Profanity…):
  account   alice@localhost / ${PASSWORD}   (or bob, carol, admin)
  server    127.0.0.1, port ${prosody.c2sPort}; allow plain-text authentication without TLS (loopback only)
  rooms     join lobby@${prosody.componentDomain}; try the nick "denyme" (refused) or staff@${prosody.componentDomain}

Try the HTTP API:
  curl ${mucgate.httpUrl}/health
  curl ${mucgate.httpUrl}/metrics
  curl -X POST ${mucgate.httpUrl}/muc_kick -H 'Authorization: ${kickAuth}' -H 'Content-Type: application/json' \\
       -d '{"nickname":"Alice","muc":"lobby@${prosody.componentDomain}","reason":"bye"}'
`);
  if (exitAfterTour) {
    say("--exit given: stopping.");
    await stop(0);
    return;
  }
  say("Running. Ctrl-C stops Prosody, mucgate and the auth service.");
}

await main();
