/**
 * Self-tests of the end-to-end rig: if these fail, every e2e test's failure
 * is suspect. Each server is stopped in afterAll/afterEach, also on failure.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { StanzaScanner, startEchoComponent, type EchoComponent } from "../../bench/echo-component.ts";
import { allow, deny, hang, raw, slow, startAuthServer, status, type AuthServer } from "./harness/auth-server.ts";
import {
  connectClient,
  groupchat,
  joinPresence,
  leavePresence,
  privateMessage,
  stanzaError,
  statusCodes,
  xml,
  type TestClient,
} from "./harness/client.ts";
import { startMucgate } from "./harness/mucgate.ts";
import { freePort, freePorts } from "./harness/ports.ts";
import { startProsody, type ProsodyServer } from "./harness/prosody.ts";
import { portAccepts as accepts } from "./harness/server-process.ts";

const FAKE_MUCGATE = [process.execPath, "test/e2e/harness/fixtures/fake-mucgate.ts"];

/**
 * The error message of a promise that must reject. (Bun's `expect(p).rejects`
 * stalls for 100–900 ms on promises that wait for sockets; this does not.)
 */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String(err);
  }
  throw new Error("expected a rejection, but the promise resolved");
}

async function processesFor(configPath: string): Promise<string> {
  const p = Bun.spawn(["pgrep", "-f", configPath], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out.trim();
}

// Everything started in a test, stopped after it whatever happened.
const cleanups: (() => Promise<unknown>)[] = [];
function track<T extends { stop(): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => thing.stop());
  return thing;
}
afterEach(async () => {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => {});
});

describe("ports", () => {
  test("hands out distinct free loopback ports", async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) expect(p).toBeGreaterThan(1023);
    expect(ports).not.toContain(await freePort());
  });
});

describe("prosody", () => {
  let prosody: ProsodyServer;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    prosody = await startProsody({ components: [{ domain: "rooms.localhost" }, { domain: "echo.localhost" }] });
    prosody.registerMany([
      { user: "alice", password: "alice-pw" },
      { user: "bob", password: "b'o\"b\\pw" },
    ]);
  });
  afterAll(async () => {
    for (const c of clients) await c.stop();
    await prosody?.stop();
  });
  const client = async (username: string, password: string, resource?: string) => {
    const c = await connectClient({ server: prosody, username, password, ...(resource ? { resource } : {}) });
    clients.push(c);
    return c;
  };

  test("starts on free loopback ports with the requested slots", async () => {
    expect(prosody.domain).toBe("localhost");
    expect(prosody.componentDomain).toBe("rooms.localhost");
    expect(prosody.componentSecret).toMatch(/^[0-9a-f]{24}$/);
    expect(prosody.components.map((c) => c.domain)).toEqual(["rooms.localhost", "echo.localhost"]);
    expect(prosody.components[1]!.secret).not.toBe(prosody.componentSecret);
    expect(prosody.componentService).toBe(`xmpp://127.0.0.1:${prosody.componentPort}`);
    expect(prosody.slot("echo.localhost")).toEqual({
      componentDomain: "echo.localhost",
      componentSecret: prosody.components[1]!.secret,
      componentService: prosody.componentService,
    });
    expect(() => prosody.slot("nope.localhost")).toThrow(/no component nope.localhost/);
    for (const port of [prosody.c2sPort, prosody.componentPort]) {
      expect([5222, 5269, 5347, 5280]).not.toContain(port);
      expect(await accepts(port)).toBe(true);
    }
    const config = readFileSync(prosody.configPath, "utf8");
    expect(config).toContain("c2s_require_encryption = false");
    expect(config).toContain('modules_disabled = { "posix";');
    expect(readFileSync(prosody.logPath, "utf8")).toContain("Activated service 'c2s'");
  });

  test("two accounts log in and exchange chat messages (full and bare JID)", async () => {
    const alice = await client("alice", "alice-pw", "desk");
    const bob = await client("bob", "b'o\"b\\pw");
    expect(alice.jid).toBe("alice@localhost/desk");
    expect(alice.bareJid).toBe("alice@localhost");
    await alice.send(xml("message", { to: bob.jid, type: "chat", id: "m1" }, xml("body", {}, "hi bob")));
    const got = await bob.waitFor({ name: "message", from: alice.jid, id: "m1" });
    expect(got.getChildText("body")).toBe("hi bob");
    // Bare JID delivery needs the initial presence connectClient sends.
    await bob.send(xml("message", { to: "alice@localhost", type: "chat", id: "m2" }, xml("body", {}, "hi alice")));
    expect((await alice.waitFor({ name: "message", id: "m2" })).getChildText("body")).toBe("hi alice");
  });

  test("a wrong password is refused with a clear error", async () => {
    expect(await failure(connectClient({ server: prosody, username: "alice", password: "nope" }))).toMatch(
      /alice@localhost could not log in.*not-authorized/,
    );
  });

  test("SCRAM-SHA-1 works too", async () => {
    const c = await connectClient({ server: prosody, username: "alice", password: "alice-pw", mechanism: "SCRAM-SHA-1" });
    clients.push(c);
    expect(c.online).toBe(true);
  });

  test("prosodyctl register works on the same data dir", async () => {
    const { exitCode, output } = await prosody.prosodyctl("register", "carol", "localhost", "carol-pw");
    expect({ exitCode, output }).toEqual({ exitCode: 0, output: "" });
    const carol = await client("carol", "carol-pw");
    expect(carol.bareJid).toBe("carol@localhost");
    // And register() can then change a prosodyctl-made account.
    prosody.register("carol", "carol-pw2");
    expect(await failure(connectClient({ server: prosody, username: "carol", password: "carol-pw" }))).toContain("not-authorized");
    clients.push(await client("carol", "carol-pw2"));
  });

  test("registerMany is fast", () => {
    const t = performance.now();
    prosody.registerMany(Array.from({ length: 500 }, (_, i) => ({ user: `user${i}`, password: `pw${i}` })));
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test("waitFor keeps order, lists what arrived on timeout; expectNothing and iq", async () => {
    const a = await client("user1", "pw1");
    const b = await client("user2", "pw2");
    for (const id of ["one", "two", "three"]) {
      await a.send(xml("message", { to: b.jid, type: "chat", id }, xml("body", {}, id)));
    }
    await b.waitFor({ id: "two" });
    // "one" came before the cursor: an ordered wait no longer sees it…
    const err = await failure(b.waitFor({ id: "one" }, { timeout: 150 }));
    expect(String(err)).toContain("not received within 150 ms");
    expect(String(err)).toContain('id="three"');
    // …but a wait from an explicit mark does.
    expect((await b.waitFor({ id: "one" }, { since: 0 })).getChildText("body")).toBe("one");
    await b.waitFor((s) => s.getChildText("body") === "three");
    await b.expectNothing({ name: "message" }, 100);
    await a.send(xml("message", { to: b.jid, type: "chat", id: "late" }, xml("body", {}, "x")));
    expect(await failure(b.expectNothing({ id: "late" }, 500))).toContain("expected nothing");
    const pong = await a.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attrs.type).toBe("result");
    const error = await a.iq(xml("iq", { type: "get", to: "localhost" }, xml("nope", { xmlns: "urn:example:nope" })));
    expect(stanzaError(error)).toMatchObject({ type: "cancel", condition: "service-unavailable" });
  });

  test("the echo component answers MUC presence and groupchat through Prosody", async () => {
    const slot = prosody.components[1]!;
    const echo = track(await startEchoComponent({ service: prosody.componentService, domain: slot.domain, secret: slot.secret }));
    const alice = await client("alice", "alice-pw");
    const occupant = `room@${slot.domain}/Alice 'A'`;
    await alice.send(joinPresence(occupant, { history: { maxstanzas: 0 } }));
    const self = await alice.waitFor({ name: "presence", from: occupant });
    expect(statusCodes(self)).toEqual([110]);
    expect(self.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs).toMatchObject({
      role: "participant",
      affiliation: "none",
    });
    await alice.send(groupchat(`room@${slot.domain}`, "<b>&amp;</b> ü", "g1"));
    const echoed = await alice.waitFor({ name: "message", type: "groupchat", id: "g1" });
    expect(echoed.attrs.from).toBe(`room@${slot.domain}/alice`);
    expect(echoed.getChildText("body")).toBe("<b>&amp;</b> ü");
    await alice.send(privateMessage(occupant, "ignored"));
    await alice.send(leavePresence(occupant));
    const gone = await alice.waitFor({ name: "presence", from: occupant, type: "unavailable" });
    expect(statusCodes(gone)).toEqual([110]);
    expect(echo.stats).toMatchObject({ presences: 2, messages: 2, replies: 3 });
  });

  test("the echo component reports a wrong secret and a taken domain", async () => {
    expect(
      await failure(startEchoComponent({ service: prosody.componentService, domain: "echo.localhost", secret: "wrong" })),
    ).toMatch(/echo.localhost.*(stream error|closed)/);
    const first = track(
      await startEchoComponent({ service: prosody.componentService, domain: "echo.localhost", secret: prosody.components[1]!.secret }),
    );
    // Prosody allows one connection per component domain.
    expect(
      await failure(
        startEchoComponent({ service: prosody.componentService, domain: "echo.localhost", secret: prosody.components[1]!.secret }),
      ),
    ).toContain("conflict");
    expect(first.stats.stanzas).toBe(0);
  });
});

describe("prosody lifecycle", () => {
  test("restart keeps the ports; clients and components are cut and can come back", async () => {
    const prosody = track(await startProsody());
    prosody.register("dave", "dave-pw");
    const { c2sPort, componentPort, pid } = prosody;
    const dave = track(await connectClient({ server: prosody, username: "dave", password: "dave-pw" }));
    let echo: EchoComponent = await startEchoComponent({
      service: prosody.componentService,
      domain: prosody.componentDomain,
      secret: prosody.componentSecret,
    });

    await prosody.restart();
    expect([prosody.c2sPort, prosody.componentPort]).toEqual([c2sPort, componentPort]);
    expect(prosody.pid).not.toBe(pid);
    await echo.closed;
    await Bun.sleep(50);
    expect(dave.online).toBe(false);

    const again = track(await connectClient({ server: prosody, username: "dave", password: "dave-pw" }));
    echo = track(
      await startEchoComponent({ service: prosody.componentService, domain: prosody.componentDomain, secret: prosody.componentSecret }),
    );
    await again.send(joinPresence(`r@${prosody.componentDomain}/dave`));
    await again.waitFor({ name: "presence", from: `r@${prosody.componentDomain}/dave` });

    // A crash (SIGKILL) restarts the same way; accounts survive.
    await prosody.restart({ signal: "SIGKILL" });
    expect(prosody.c2sPort).toBe(c2sPort);
    track(await connectClient({ server: prosody, username: "dave", password: "dave-pw" }));
  });

  test("stop leaves no prosody process and removes the temp dir", async () => {
    const prosody = await startProsody({ logLevel: "debug" });
    const configPath = prosody.configPath;
    try {
      expect(await processesFor(configPath)).toBe(String(prosody.pid));
      expect(readFileSync(prosody.logPath, "utf8")).toContain("\tdebug\t");
    } finally {
      await prosody.stop();
    }
    expect(await processesFor(configPath)).toBe("");
    expect(existsSync(prosody.dir)).toBe(false);
    expect(await accepts(prosody.c2sPort)).toBe(false);
    await prosody.stop(); // idempotent
  });

  test("two Prosodys run side by side on different ports", async () => {
    const [a, b] = await Promise.all([startProsody(), startProsody({ domain: "example.test" })]);
    track(a);
    track(b);
    expect(new Set([a.c2sPort, a.componentPort, b.c2sPort, b.componentPort]).size).toBe(4);
    expect(b.componentDomain).toBe("rooms.example.test");
    b.register("erin", "pw");
    const erin = track(await connectClient({ server: b, username: "erin", password: "pw" }));
    expect(erin.bareJid).toBe("erin@example.test");
  });

  test("extra virtual hosts take accounts and logins", async () => {
    const prosody = track(await startProsody({ extraDomains: ["other.localhost"] }));
    prosody.register("frank", "pw", "other.localhost");
    expect(() => prosody.register("x", "y", "nowhere.example")).toThrow(/not one of this Prosody's hosts/);
    const frank = track(await connectClient({ server: prosody, domain: "other.localhost", username: "frank", password: "pw" }));
    expect(frank.bareJid).toBe("frank@other.localhost");
  });
});

describe("auth server", () => {
  let auth: AuthServer;
  beforeAll(() => {
    auth = startAuthServer();
  });
  afterAll(async () => {
    await auth?.stop();
  });
  afterEach(() => auth.reset());

  const ask = (nickname = "nick", init?: RequestInit) =>
    fetch(`${auth.url}?userJID=${encodeURIComponent("a@localhost")}&mucJID=${encodeURIComponent("room@rooms.localhost")}&nickname=${encodeURIComponent(nickname)}`, init);

  test("allows by default and records the request", async () => {
    const res = await ask("Nick Ä", { headers: { authorization: "Bearer t" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ allowed: true });
    expect(auth.requests).toHaveLength(1);
    const r = auth.requests[0]!;
    expect(r).toMatchObject({ method: "GET", path: "/auth", userJID: "a@localhost", mucJID: "room@rooms.localhost", nickname: "Nick Ä" });
    expect(r.headers.authorization).toBe("Bearer t");
    expect(r.answeredAt! >= r.receivedAt).toBe(true);
  });

  test("deny, status, raw", async () => {
    auth.setBehaviour(deny("not you"));
    expect(await (await ask()).json()).toEqual({ allowed: false, error: "not you" });
    auth.setBehaviour(status(500, { error: "boom" }));
    let res = await ask();
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "boom" });
    auth.setBehaviour(status(503));
    res = await ask();
    expect([res.status, await res.text()]).toEqual([503, ""]);
    auth.setBehaviour(raw("{not json"));
    res = await ask();
    expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([200, "application/json", "{not json"]);
    auth.setBehaviour(raw('{"allowed":"true"}', 201));
    res = await ask();
    expect([res.status, await res.text()]).toEqual([201, '{"allowed":"true"}']);
  });

  test("one-shot answers come first, then a policy function decides", async () => {
    auth.enqueue(deny("first"), status(502));
    auth.setBehaviour((r) => (r.nickname?.startsWith("ok") ? allow() : deny(`no ${r.nickname}`)));
    expect(await (await ask("ok1")).json()).toEqual({ allowed: false, error: "first" });
    expect((await ask("ok2")).status).toBe(502);
    expect(await (await ask("ok3")).json()).toEqual({ allowed: true });
    expect(await (await ask("bad")).json()).toEqual({ allowed: false, error: "no bad" });
    expect((await fetch(`http://127.0.0.1:${auth.port}/other`)).status).toBe(404);
    expect(auth.requests.map((r) => r.behaviour.kind)).toEqual(["deny", "status", "allow", "deny", "status"]);
  });

  test("hang holds requests until release; in-flight is counted", async () => {
    auth.setBehaviour(hang());
    const pending = [ask("h1"), ask("h2"), ask("h3")];
    await auth.waitForRequests(3);
    expect(auth.inFlight).toBe(3);
    const early = await Promise.race([Promise.all(pending), Bun.sleep(200).then(() => "still hanging")]);
    expect(early).toBe("still hanging");
    expect(auth.release(deny("late"))).toBe(3);
    for (const res of await Promise.all(pending)) expect(await res.json()).toEqual({ allowed: false, error: "late" });
    expect(auth.maxInFlight).toBe(3);
    expect(auth.inFlight).toBe(0);
  });

  test("a hanging request lets the client's timeout fire", async () => {
    auth.setBehaviour(hang());
    const t = performance.now();
    expect(await failure(ask("x", { signal: AbortSignal.timeout(150) }))).toContain("TimeoutError");
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test("slow answers after the delay", async () => {
    auth.setBehaviour(slow(250, deny("slowly")));
    const t = performance.now();
    expect(await (await ask()).json()).toEqual({ allowed: false, error: "slowly" });
    expect(performance.now() - t).toBeGreaterThanOrEqual(240);
  });

  test("reset forgets requests and behaviour; waitForRequests times out with a message", async () => {
    auth.setBehaviour(deny());
    await ask();
    auth.reset();
    expect(auth.requests).toHaveLength(0);
    expect(await (await ask()).json()).toEqual({ allowed: true });
    expect(await failure(auth.waitForRequests(5, 100))).toContain("1 of 5 requests");
  });
});

describe("mucgate process", () => {
  let prosody: ProsodyServer;
  beforeAll(async () => {
    prosody = await startProsody();
    prosody.register("alice", "alice-pw");
  });
  afterAll(async () => {
    await prosody?.stop();
  });

  test("spawns with a generated config, waits for health, captures logs, stops", async () => {
    const m = track(
      await startMucgate({
        prosody,
        authUrl: "http://127.0.0.1:9/auth",
        command: FAKE_MUCGATE,
        env: { MUCGATE_LOG_LEVEL: "debug" },
      }),
    );
    expect(m.config).toMatchObject({
      component_jid: "rooms.localhost",
      component_secret: prosody.componentSecret,
      component_service: `xmpp://127.0.0.1:${prosody.componentPort}`,
      http_port: m.httpPort,
      http_muc_kick_authorization_header: m.kickAuth,
      muc_http_auth_url: "http://127.0.0.1:9/auth",
    });
    expect(readFileSync(m.configPath, "utf8")).toContain(`component_jid = "rooms.localhost"`);
    expect(await (await m.health()).json()).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
    expect(m.json().map((r) => r.msg)).toEqual(["mucgate starting", "component online"]);
    expect(m.json()[0]!.env).toBe("debug");
    expect(await m.waitForLog("component online")).toContain('"level":"info"');
    // The component really is on Prosody's slot: a join goes through.
    const alice = track(await connectClient({ server: prosody, username: "alice", password: "alice-pw" }));
    await alice.send(joinPresence(`room@rooms.localhost/alice`));
    await alice.waitFor({ name: "presence", from: "room@rooms.localhost/alice" });
    expect(m.exitCode).toBeNull();
    expect(await m.stop()).toBe(0);
    expect(m.exitCode).toBe(0);
    expect(m.json().at(-1)!.msg).toBe("shutting down");
  });

  test("restart comes back on the same port", async () => {
    const m = track(await startMucgate({ prosody, command: FAKE_MUCGATE }));
    const pid = m.pid;
    await m.restart();
    expect(m.pid).not.toBe(pid);
    expect((await m.health()).status).toBe(200);
  });

  test("a process that exits during start-up rejects with its output", async () => {
    const err = await failure(startMucgate({ prosody, command: FAKE_MUCGATE, config: { fake_exit_code: 3 } }));
    expect(String(err)).toContain("exited with 3 before it was online");
    expect(String(err)).toContain("told to fail with 3");
    expect(String(err)).toContain("component_jid"); // the config is shown
  });

  test("a process that never gets online times out with a helpful message", async () => {
    const err = await failure(
      startMucgate({ prosody, command: ["sh", "-c", "echo waiting forever; exec sleep 30"], startTimeout: 300 }),
    );
    expect(String(err)).toContain("not online");
    expect(String(err)).toContain("waiting forever");
  });

  test("waitForOnline: false returns at once, for tests of failing start-ups", async () => {
    const m = await startMucgate({ prosody, command: FAKE_MUCGATE, config: { component_jid: undefined }, waitForOnline: false });
    expect(await m.exited).toBe(1);
    expect(m.stderr.join("\n")).toContain("component_jid: required");
    expect(m.config).not.toHaveProperty("component_jid");
    await m.stop();
  });

  test("the real mucgate (bun src/main.ts) starts, serves a join and a kick, and stops", async () => {
    const auth = track(startAuthServer());
    const m = track(await startMucgate({ prosody, authUrl: auth.url }));
    const alice = track(await connectClient({ server: prosody, username: "alice", password: "alice-pw" }));
    await alice.send(joinPresence("smoke@rooms.localhost/alice"));
    const self = await alice.waitFor({ name: "presence", from: "smoke@rooms.localhost/alice" });
    expect(statusCodes(self)).toContain(110);
    expect(auth.requests.map((r) => r.nickname)).toEqual(["alice"]);
    const res = await m.kick({ nickname: "alice", muc: "smoke@rooms.localhost", reason: "harness" });
    expect(res.status).toBe(200);
    const kicked = await alice.waitFor({ name: "presence", type: "unavailable" });
    expect(statusCodes(kicked)).toContain(307);
    expect((await m.kick({ nickname: "alice", muc: "smoke@rooms.localhost" }, "wrong")).status).toBe(401);
    expect(await m.stop()).toBe(0);
    expect(m.json().some((r) => r.msg === "component online")).toBe(true);
  });
});

describe("echo component's stanza scanner", () => {
  const STREAM =
    `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' id='abc' from="x">` +
    `<handshake/>` +
    `<presence from='a@b/c' to="r@rooms/n&apos;k"><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>` +
    `<message to='r@rooms' a="1>2" b='"'><body>ü &lt;b&gt; 😀</body><x><y><z/></y></x></message>` +
    `<!-- a comment --><iq type='get' id='1'/>` +
    `</stream:stream>`;

  function scan(chunks: string[]): string[] {
    const seen: string[] = [];
    const scanner = new StanzaScanner(
      (header) => seen.push(`header:${header}`),
      (xmlText, startTagEnd) => seen.push(`${xmlText}|${xmlText.slice(0, startTagEnd + 1)}`),
      () => seen.push("end"),
    );
    for (const c of chunks) scanner.push(c);
    return seen;
  }

  test("finds the top-level elements and their start tags", () => {
    const seen = scan([STREAM]);
    expect(seen).toHaveLength(6);
    expect(seen[0]).toStartWith("header:<stream:stream");
    expect(seen[3]).toStartWith(`<message to='r@rooms' a="1>2" b='"'><body>`);
    expect(seen[3]).toEndWith(`</message>|<message to='r@rooms' a="1>2" b='"'>`);
    expect(seen[4]).toBe("<iq type='get' id='1'/>|<iq type='get' id='1'/>");
    expect(seen[5]).toBe("end");
  });

  test("gives the same result however the stream is cut into chunks", () => {
    const whole = scan([STREAM]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 30 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
        const chunks = points.slice(1).map((end, i) => STREAM.slice(points[i], end));
        expect(scan(chunks)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
