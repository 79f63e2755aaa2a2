import { expect, test } from "bun:test";
import { createGate } from "../src/auth/create-gate.ts";
import { parseConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { startMucgate } from "../src/mucgate.ts";
import { xml } from "@xmpp/xml";
import { BunTcpSocket } from "../src/xmpp/tcp-socket.ts";
import { freePort } from "./e2e/harness/ports.ts";
import { startAcceptServer } from "./support/accept-server.ts";

/** A configuration with what every test here needs (a gate that is never reached, a free HTTP port) and `lines`. */
async function configWith(...lines: string[]) {
  return parseConfig({
    toml: [
      'component_jid = "rooms.example.org"',
      'component_secret = "s"',
      'http_muc_kick_authorization_header = "k"',
      'muc_http_auth_url = "http://127.0.0.1:9/check"',
      `http_port = ${await freePort()}`,
      ...lines,
    ].join("\n"),
  });
}

/** mucgate from `config`, with its own metrics and gate, logging nothing. */
function start(config: Awaited<ReturnType<typeof configWith>>) {
  const metrics = new Metrics();
  return startMucgate(config, { logger: silentLogger, metrics, authorizer: createGate(config, { logger: silentLogger, metrics }) });
}

/** What --check-config accepts, mucgate starts with: the parts never re-validate what the configuration checked. */
test("every component_service spelling the configuration accepts starts the service", async () => {
  for (const service of ["xmpp://127.0.0.1:5347/", "xmpp://localhost", "xmpp://[::1]/", "xmpp://127.0.0.1:1"]) {
    const mucgate = await start(await configWith(`component_service = "${service}"`));
    expect(mucgate.connection.state).not.toBe("stopped");
    await mucgate.stop();
  }
});

/** The limits reach the core as configured (README "Limits"). */
test("the limits of rooms and users are the service's settings, and new rooms start with the default occupant limit", async () => {
  const mucgate = await start(
    await configWith(
      'component_service = "xmpp://127.0.0.1:1"',
      'storage = "memory"',
      'admins = ["Root@Example.org"]',
      'restrict_room_creation = "local"',
      "max_user_conferences = 3",
      "max_history_bytes = 4096",
      "muc_room_default_max_occupants = 7",
    ),
  );
  try {
    const { settings } = mucgate.service;
    expect([...settings.admins]).toEqual(["root@example.org"]);
    expect(settings.restrictRoomCreation).toBe("local");
    expect(settings.maxUserConferences).toBe(3);
    expect(settings.maxHistoryBytes).toBe(4096);
    const room = mucgate.service.openRoom("made@rooms.example.org", [])!;
    expect(room.config.maxUsers).toBe(7);
    expect(room.history.maxBytes).toBe(4096);
  } finally {
    await mucgate.stop();
  }
});

/** README "Deployment", shutdown: the 332s leave in slices, so many more than the output cap holds all arrive. */
test("a stop without keeping occupants delivers every 332 even when they weigh many times the output cap", async () => {
  const received = { unavailable: 0 };
  let text = "";
  const count = (chunk: string) => {
    text += chunk;
    let at: number;
    while ((at = text.indexOf("</presence>")) !== -1) {
      if (/code=['"]332['"]/.test(text.slice(0, at))) received.unavailable++;
      text = text.slice(at + 11);
    }
  };
  const counting = startAcceptServer({ secret: "s", onData: count });
  const config = await configWith(`component_service = "xmpp://127.0.0.1:${counting.port}"`, 'storage = "memory"', "muc_keep_occupants_on_restart = false");
  const cap = BunTcpSocket.maxQueuedBytes;
  const high = BunTcpSocket.highWaterBytes;
  BunTcpSocket.maxQueuedBytes = 1024 * 1024;
  BunTcpSocket.highWaterBytes = 256 * 1024;
  const mucgate = await start(config);
  try {
    await counting.waitForSession();
    for (let i = 0; i < 100 && mucgate.connection.state !== "online"; i++) await Bun.sleep(10);
    // 12,000 occupants: about 4 MB of 332s, four times the cap.
    for (let r = 0; r < 1200; r++) {
      for (let k = 0; k < 10; k++) {
        mucgate.service.handle(xml("presence", { from: `u${r * 10 + k}@example.org/r`, to: `room${r}@rooms.example.org/n${k}` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })), []);
      }
    }
    expect(mucgate.service.occupantCount).toBe(12_000);
    await mucgate.stop();
    expect(received.unavailable).toBe(12_000);
  } finally {
    BunTcpSocket.maxQueuedBytes = cap;
    BunTcpSocket.highWaterBytes = high;
    counting.stop();
  }
}, 30_000);
