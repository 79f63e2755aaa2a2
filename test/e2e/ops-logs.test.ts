/**
 * Logs of a real mucgate process: JSON lines on stdout (level, time, msg),
 * filtered by `log_level`, one line per denied join naming user, room, nick
 * and the authorization service's `error` text — and no secret, ever: the
 * component secret, the kick Authorization value, the Authorization header
 * sent to the auth service and a token in the auth URL's query are made
 * distinctive and looked for in everything the processes print, at debug
 * level, through the error paths too (wrong component secret, 401 kicks,
 * auth failures of every kind, invalid configuration).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deny, raw, status } from "./harness/auth-server.ts";
import { joinPresence, type Element } from "./harness/client.ts";
import { REPO_ROOT, startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { freePort } from "./harness/ports.ts";
import { useRig } from "./harness/rig.ts";
import { waitUntil } from "./harness/wait-until.ts";

const COMPONENT_SECRET = "CompSecret-Zq8v1W3kT9";
const WRONG_COMPONENT_SECRET = "WrongCompSecret-Hx4m7Q2pL6";
const KICK_AUTH = "Bearer KickToken-Rb5n2Y8cJ1";
const WRONG_KICK_AUTH = "Bearer WrongKick-Vt6s3D9fN4";
const AUTH_HEADER = "Bearer AuthHeader-Mk7p4G1xE5";
const URL_TOKEN = "UrlToken-Cw2j8K5hA3";
const SECRETS = [COMPONENT_SECRET, WRONG_COMPONENT_SECRET, KICK_AUTH, WRONG_KICK_AUTH, AUTH_HEADER, URL_TOKEN];
/** The distinctive parts alone too, in case a line carries one without its "Bearer ". */
const NEEDLES = [...SECRETS, ...SECRETS.map((s) => s.replace(/^Bearer /, ""))];

const mucgates: MucgateProcess[] = [];
/** Everything every mucgate process printed in this file, for the secrets sweep. */
const allOutput: string[] = [];

// mucgate is started per test (launch), on this file's Prosody and auth service.
const rig = useRig({
  prosody: { components: [{ domain: "rooms.localhost", secret: COMPONENT_SECRET }] },
  mucgates: {},
  afterEach: async () => {
    for (const m of mucgates.splice(0)) {
      await m.stop("SIGTERM");
      allOutput.push(m.output());
    }
  },
});

async function launch(config: Record<string, unknown> = {}, extra: Partial<Parameters<typeof startMucgate>[0]> = {}): Promise<MucgateProcess> {
  const m = await startMucgate({
    prosody: rig.prosody,
    authUrl: `${rig.auth.url}?token=${URL_TOKEN}`,
    config: {
      http_muc_kick_authorization_header: KICK_AUTH,
      muc_http_auth_authorization_header: AUTH_HEADER,
      muc_http_auth_negative_cache_ttl: 0,
      ...config,
    },
    ...extra,
  });
  mucgates.push(m);
  return m;
}

const isError = (s: Element) => s.name === "presence" && s.attrs.type === "error";
const isSubject = (s: Element) => s.name === "message" && s.getChild("subject") !== undefined;

function expectNoSecrets(text: string): void {
  for (const needle of NEEDLES) {
    if (text.includes(needle)) throw new Error(`secret ${JSON.stringify(needle)} found in output:\n${text}`);
  }
}

describe("format and level", () => {
  test("every stdout line is a JSON object with level, time and msg; stderr stays empty", async () => {
    const m = await launch();
    const alice = await rig.client("alice");
    await alice.send(joinPresence(`fmt@${rig.prosody.componentDomain}/alice`));
    await alice.waitFor(isSubject);
    expect((await m.kick({ nickname: "alice", muc: `fmt@${rig.prosody.componentDomain}` }, KICK_AUTH)).status).toBe(200);
    expect(await m.stop()).toBe(0);
    allOutput.push(m.output());
    mucgates.splice(mucgates.indexOf(m), 1);

    expect(m.stdout.length).toBeGreaterThanOrEqual(4);
    for (const line of m.stdout) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(typeof record).toBe("object");
      expect(["debug", "info", "warn", "error", "fatal"]).toContain(record.level as string);
      expect(new Date(record.time as string).toISOString()).toBe(record.time as string);
      expect(typeof record.msg).toBe("string");
    }
    expect(m.stderr.filter((l) => l.trim() !== "")).toEqual([]);
    expect(m.json().map((r) => r.msg)).toEqual(expect.arrayContaining(["mucgate starting", "component online", "kicked over HTTP", "shutting down", "mucgate stopped"]));
  });

  test('log_level = "warn" leaves out info lines and keeps warnings (file and MUCGATE_LOG_LEVEL alike)', async () => {
    for (const how of ["file", "env"] as const) {
      const m = await launch(how === "file" ? { log_level: "warn" } : {}, how === "env" ? { env: { MUCGATE_LOG_LEVEL: "warn" } } : {});
      const mallory = await rig.client("mallory");
      rig.auth.enqueue(deny("not today"));
      await mallory.send(joinPresence(`quiet-${how}@${rig.prosody.componentDomain}/mallory`));
      await mallory.waitFor(isError);
      // A warning: the auth service failing.
      rig.auth.enqueue(status(500, { error: "backend broke" }));
      await mallory.send(joinPresence(`quiet-${how}@${rig.prosody.componentDomain}/mallory2`));
      await mallory.waitFor(isError);
      await m.waitForLog("no usable answer");
      expect(await m.stop()).toBe(0);
      allOutput.push(m.output());
      mucgates.splice(mucgates.indexOf(m), 1);

      const levels = m.json().map((r) => r.level);
      expect(levels.length).toBeGreaterThan(0);
      expect(levels.every((l) => l === "warn" || l === "error")).toBe(true);
      expect(m.stdout.length).toBe(m.json().length);
    }
  });

  test('log_level = "debug" adds debug lines', async () => {
    const m = await launch({ log_level: "debug" });
    await m.waitForLog((l) => l.includes('"level":"debug"'));
  });
});

describe("denials", () => {
  test("a denied join is one line naming user, room, nick and the service's error text", async () => {
    const m = await launch();
    const room = `deny@${rig.prosody.componentDomain}`;
    const mallory = await rig.client("mallory");
    const text = "mallory is banned until Friday (ticket 4711)";
    rig.auth.enqueue(deny(text));
    await mallory.send(joinPresence(`${room}/Mal`));
    await mallory.waitFor(isError);
    await m.waitForLog("join denied");
    // Anything else a denial might log would have been written by now: a server round trip later.
    await mallory.sync();
    const lines = m.stdout.filter((l) => l.includes(text));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "info",
      msg: "join denied",
      user: "mallory@localhost",
      room,
      nick: "Mal",
      reason: text,
      failure: false,
    });
    expect(m.json().filter((r) => String(r.msg).includes("denied"))).toHaveLength(1);
  });
});

describe("no secrets in any output", () => {
  test("a busy run at debug level: joins, denials, auth failures of every kind, kicks right and wrong, a restart of Prosody", async () => {
    const m = await launch({ log_level: "debug" });
    const room = `secrets@${rig.prosody.componentDomain}`;
    const alice = await rig.client("alice");
    const mallory = await rig.client("mallory");
    await alice.send(joinPresence(`${room}/alice`));
    await alice.waitFor(isSubject);
    // The auth service got our header (so it was in play) …
    expect(rig.auth.requests.at(-1)?.headers.authorization).toBe(AUTH_HEADER);
    expect(rig.auth.requests.at(-1)?.query.token).toBe(URL_TOKEN);
    // … and every way it can fail.
    const failures = [deny("no"), status(401, { error: "bad credentials" }), status(500), raw("{not json"), raw('{"allowed":"yes"}')];
    for (const [i, behaviour] of failures.entries()) {
      rig.auth.enqueue(behaviour);
      await mallory.send(joinPresence(`${room}/m${i}`));
      await mallory.waitFor(isError);
    }
    expect((await m.kick({ nickname: "alice", muc: room }, WRONG_KICK_AUTH)).status).toBe(401);
    expect((await m.kick({ nickname: "alice", muc: room }, null)).status).toBe(401);
    expect((await m.kick({ nickname: "nobody", muc: room }, KICK_AUTH)).status).toBe(400);
    expect((await m.kick({ nickname: "alice", muc: room, reason: "bye" }, KICK_AUTH)).status).toBe(200);
    await rig.prosody.restart();
    await waitUntil(async () => (await m.health()).status === 200, { timeout: 10_000, describe: () => m.output() });
    expect(m.output()).toContain("component offline");
    expectNoSecrets(m.output());
  }, 20_000);

  test("the auth service unreachable, and secrets given in the environment", async () => {
    const dead = await freePort();
    const m = await launch(
      { component_secret: undefined, http_muc_kick_authorization_header: undefined, log_level: "debug" },
      {
        authUrl: `http://127.0.0.1:${dead}/auth?token=${URL_TOKEN}`,
        env: { MUCGATE_COMPONENT_SECRET: COMPONENT_SECRET, MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: KICK_AUTH },
      },
    );
    const mallory = await rig.client("mallory");
    await mallory.send(joinPresence(`down@${rig.prosody.componentDomain}/mallory`));
    await mallory.waitFor(isError);
    await m.waitForLog("connection refused");
    expect((await m.kick({ nickname: "x", muc: `down@${rig.prosody.componentDomain}` }, WRONG_KICK_AUTH)).status).toBe(401);
    expectNoSecrets(m.output());
  });

  test("a wrong component secret: the refused handshake is logged, the secret is not", async () => {
    const m = await launch({ component_secret: WRONG_COMPONENT_SECRET, log_level: "debug" }, { waitForOnline: false });
    const line = await m.waitForLog("handshake refused", 10_000);
    expect(JSON.parse(line)).toMatchObject({ level: "warn" });
    expect(line).toContain("check component_secret");
    expect((await m.health()).status).toBe(503);
    expectNoSecrets(m.output());
  });

  test("--check-config on broken files names the keys, never their secret values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-logs-"));
    try {
      const cases: Record<string, string> = {
        "typo next to secrets": [
          'component_jid = "rooms.example.org"',
          `component_secrett = "${COMPONENT_SECRET}"`,
          `http_muc_kick_authorization_header = "${KICK_AUTH}"`,
          `muc_http_auth_url = "https://rig.auth.example.org/a?token=${URL_TOKEN}&userJID=x"`,
          `muc_http_auth_authorization_header = "${AUTH_HEADER}\\n"`,
        ].join("\n"),
        "wrong types": [
          'component_jid = "rooms.example.org"',
          `component_secret = ["${COMPONENT_SECRET}"]`,
          `http_muc_kick_authorization_header = { v = "${KICK_AUTH}" }`,
          `muc_http_auth_url = "ftp://rig.auth.example.org/?token=${URL_TOKEN}"`,
          `muc_http_auth_authorization_header = 1`,
        ].join("\n"),
        "broken TOML": [`component_secret = "${COMPONENT_SECRET}`, `http_muc_kick_authorization_header = "${KICK_AUTH}"`].join("\n"),
      };
      for (const [name, toml] of Object.entries(cases)) {
        const file = join(dir, `${name.replaceAll(" ", "-")}.toml`);
        writeFileSync(file, toml);
        const p = Bun.spawn([process.execPath, "src/main.ts", "--check-config", "--config", file], {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH ?? "" },
          stdout: "pipe",
          stderr: "pipe",
        });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        expect(code).toBe(1);
        const text = out + err;
        expect(text.length).toBeGreaterThan(0);
        allOutput.push(text);
        expectNoSecrets(text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the whole file's output, swept once more", () => {
    expect(allOutput.length).toBeGreaterThan(5);
    expectNoSecrets(allOutput.join("\n"));
  });
});
