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
