import { expect, test } from "bun:test";
import { createGate } from "../src/auth/create-gate.ts";
import { parseConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { startMucgate } from "../src/mucgate.ts";
import { freePort } from "./e2e/harness/ports.ts";

/** What --check-config accepts, mucgate starts with: the parts never re-validate what the configuration checked. */
test("every component_service spelling the configuration accepts starts the service", async () => {
  for (const service of ["xmpp://127.0.0.1:5347/", "xmpp://localhost", "xmpp://[::1]/", "xmpp://127.0.0.1:1"]) {
    const config = parseConfig({
      toml: [
        'component_jid = "rooms.example.org"',
        'component_secret = "s"',
        'http_muc_kick_authorization_header = "k"',
        'muc_http_auth_url = "http://127.0.0.1:9/check"',
        `component_service = "${service}"`,
        `http_port = ${await freePort()}`,
      ].join("\n"),
    });
    const metrics = new Metrics();
    const mucgate = await startMucgate(config, { logger: silentLogger, metrics, authorizer: createGate(config, { logger: silentLogger, metrics }) });
    expect(mucgate.connection.state).not.toBe("stopped");
    await mucgate.stop();
  }
});

/** The limits reach the core as configured (README "Limits"). */
test("the limits of rooms and users are the service's settings, and new rooms start with the default occupant limit", async () => {
  const config = parseConfig({
    toml: [
      'component_jid = "rooms.example.org"',
      'component_secret = "s"',
      'http_muc_kick_authorization_header = "k"',
      'muc_http_auth_url = "http://127.0.0.1:9/check"',
      'component_service = "xmpp://127.0.0.1:1"',
      'storage = "memory"',
      `http_port = ${await freePort()}`,
      'admins = ["Root@Example.org"]',
      'restrict_room_creation = "local"',
      "max_user_conferences = 3",
      "max_history_bytes = 4096",
      "muc_room_default_max_occupants = 7",
    ].join("\n"),
  });
  const metrics = new Metrics();
  const mucgate = await startMucgate(config, { logger: silentLogger, metrics, authorizer: createGate(config, { logger: silentLogger, metrics }) });
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
