import { afterEach, describe, expect, test } from "bun:test";
import { xml, type Element } from "@xmpp/xml";
import pino from "pino";
import { Backoff } from "../../src/xmpp/backoff.ts";
import { BunTcpSocket } from "../../src/xmpp/tcp-socket.ts";
import { ComponentConnection, type ConnectionState } from "../../src/xmpp/component-connection.ts";
import { startAcceptServer, type AcceptServer } from "../support/accept-server.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

function connect(server: AcceptServer, secret: string, onStanza: (el: Element) => void = () => {}, extra: { maxStanzaBytes?: number; ping?: { interval: number; timeout: number }; backlog?: () => number } = {}) {
  const { logger, lines } = capturingLogger();
  const states: ConnectionState[] = [];
  const connection = new ComponentConnection({
    service: `xmpp://127.0.0.1:${server.port}`,
    domain: "rooms.test",
    secret,
    logger,
    onStanza,
    onState: (s) => states.push(s),
    backoff: new Backoff({ base: 20, max: 80, random: () => 0.5 }),
    timeout: 1000,
    ...extra,
  });
  cleanups.push(() => connection.stop());
  connection.start();
  return { connection, lines, states };
}

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("ComponentConnection", () => {
  test("handshakes with the server and exchanges stanzas", async () => {
    const received: Element[] = [];
    const server = startAcceptServer({ secret: "s3cret", onStanza: (el) => received.push(el) });
    cleanups.push(() => server.stop());
    const got: Element[] = [];
    const { connection } = connect(server, "s3cret", (el) => got.push(el));
    const session = await server.waitForSession();
    await until(() => connection.state === "online");
    expect(session.domain).toBe("rooms.test");
    session.write("<presence from='a@b/c' to='room@rooms.test/nick'/>");
    await until(() => got.length === 1);
    expect(got[0]!.attrs.to).toBe("room@rooms.test/nick");
    connection.send([xml("message", { to: "a@b/c", from: "room@rooms.test" }), xml("presence", { to: "a@b/c" })]);
    await until(() => received.length === 2);
    expect(received.map((e) => e.name)).toEqual(["message", "presence"]);
  });

  test("a stanza over maxStanzaBytes is never written: the link stays up, an IQ result becomes an error", async () => {
    const received: Element[] = [];
    const server = startAcceptServer({ secret: "s3cret", onStanza: (el) => received.push(el) });
    cleanups.push(() => server.stop());
    const { connection, lines } = connect(server, "s3cret", () => {}, { maxStanzaBytes: 1000 });
    await server.waitForSession();
    await until(() => connection.state === "online");
    const big = "x".repeat(1000);
    connection.send([
      xml("message", { to: "a@b/c", id: "big" }, xml("body", {}, big)),
      xml("iq", { type: "result", to: "a@b/c", from: "rooms.test", id: "q1" }, xml("query", { xmlns: "urn:x" }, big)),
      xml("message", { to: "a@b/c", id: "small" }, xml("body", {}, "x".repeat(900))),
    ]);
    await until(() => received.length === 2);
    expect(received.map((e) => [e.name, e.attrs.id, e.attrs.type])).toEqual([
      ["iq", "q1", "error"],
      ["message", "small", undefined],
    ]);
    expect(received[0]!.getChild("error")!.getChild("policy-violation")).toBeDefined();
    expect(connection.state).toBe("online");
    expect(lines.filter((l) => l.msg === "stanza over component_stanza_size_limit not sent")).toHaveLength(2);
  });

  test("the output cap is checked while a turn is written: the link is given up at the cap, not after the whole turn", async () => {
    const server = startAcceptServer({ secret: "s3cret" });
    cleanups.push(() => server.stop());
    const { connection, lines } = connect(server, "s3cret");
    await server.waitForSession();
    await until(() => connection.state === "online");
    const cap = BunTcpSocket.maxQueuedBytes;
    BunTcpSocket.maxQueuedBytes = 256 * 1024;
    try {
      // 2 MB in one turn, eight times the cap.
      const stanzas = Array.from({ length: 2000 }, (_, i) => xml("message", { to: "a@b/c", id: String(i) }, xml("body", {}, "z".repeat(1000))));
      connection.send(stanzas);
      await until(() => connection.state !== "online");
    } finally {
      BunTcpSocket.maxQueuedBytes = cap;
    }
    await until(() => lines.some((l) => String(l.msg).includes("not reading")));
    const line = lines.find((l) => String(l.msg).includes("not reading"))!;
    const bytes = Number(/(\d+) bytes queued/.exec(String(line.msg))![1]);
    expect(bytes).toBeGreaterThan(256 * 1024);
    expect(bytes).toBeLessThan(256 * 1024 + 2048);
    await until(() => connection.state === "online"); // and it reconnects
  });

  /** Run `body` with the socket's cap and high-water mark lowered, so a test's few MB play the part of a big room's hundreds. */
  async function withMarks(marks: { cap: number; high: number }, body: () => Promise<void>) {
    const cap = BunTcpSocket.maxQueuedBytes;
    const high = BunTcpSocket.highWaterBytes;
    BunTcpSocket.maxQueuedBytes = marks.cap;
    BunTcpSocket.highWaterBytes = marks.high;
    try {
      await body();
    } finally {
      BunTcpSocket.maxQueuedBytes = cap;
      BunTcpSocket.highWaterBytes = high;
    }
  }

  /** The server sends `count` messages in one write; each is answered with `fanout` messages of `bytes`. */
  async function burst(options: { count: number; fanout: number; bytes: number; upstream?: boolean }) {
    const received: string[] = [];
    const server = startAcceptServer({ secret: "s3cret", onStanza: (el) => received.push(el.attrs.id!) });
    cleanups.push(() => server.stop());
    // `upstream`: answers wait for the end of the turn before they reach send(), as the outbox holds them for its commit.
    const held: Element[][] = [];
    let scheduled = false;
    let connection!: ComponentConnection;
    const answer = (el: Element) => {
      const out = Array.from({ length: options.fanout }, (_, k) => xml("message", { to: "a@b/c", id: `${el.attrs.id}.${k}` }, xml("body", {}, "b".repeat(options.bytes))));
      if (!options.upstream) return connection.send(out);
      held.push(out);
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        connection.send(held.splice(0).flat());
      });
    };
    const opened = connect(server, "s3cret", answer, options.upstream ? { backlog: () => held.reduce((n, b) => n + b.length, 0) } : {});
    connection = opened.connection;
    const session = await server.waitForSession();
    await until(() => connection.state === "online");
    session.write(Array.from({ length: options.count }, (_, i) => `<message from='u@h/r' to='r@rooms.test' id='m${i}'/>`).join(""));
    const expected = Array.from({ length: options.count }, (_, i) => Array.from({ length: options.fanout }, (_, k) => `m${i}.${k}`)).flat();
    await until(() => received.length >= expected.length || opened.states.at(-1) !== "online", 20_000);
    return { received, expected, states: opened.states, lines: opened.lines };
  }

  test("one read whose answers are far over the cap is handled a little at a time: the link stays up, every answer arrives in order", async () => {
    await withMarks({ cap: 1024 * 1024, high: 64 * 1024 }, async () => {
      // 200 stanzas in one read, 4 MB of answers: four times the cap.
      const { received, expected, states, lines } = await burst({ count: 200, fanout: 20, bytes: 1000 });
      expect(states).toEqual(["connecting", "online"]);
      expect(lines.some((l) => String(l.msg).includes("not reading"))).toBe(false);
      expect(received).toEqual(expected);
    });
  });

  test("answers still upstream of send() (an outbox waiting for its turn) count too: the rest waits for a later turn", async () => {
    await withMarks({ cap: 4 * 1024 * 1024, high: 64 * 1024 }, async () => {
      // 200,000 answers of ~100 bytes, 20 MB, all produced in the turn of one read unless the pump waits for the outbox.
      const { received, expected, states } = await burst({ count: 200, fanout: 1000, bytes: 40, upstream: true });
      expect(states).toEqual(["connecting", "online"]);
      expect(received.length).toBe(expected.length);
      expect(received).toEqual(expected);
    });
  });

  test("runQueued() handles at once what waits behind back-pressure (shutdown: every stanza read gets its answer)", async () => {
    await withMarks({ cap: 64 * 1024 * 1024, high: 64 * 1024 }, async () => {
      const server = startAcceptServer({ secret: "s3cret" });
      cleanups.push(() => server.stop());
      const handled: string[] = [];
      let connection!: ComponentConnection;
      const opened = connect(server, "s3cret", (el) => {
        handled.push(el.attrs.id!);
        connection.send(Array.from({ length: 50 }, () => xml("message", { to: "a@b/c" }, xml("body", {}, "c".repeat(1000)))));
      });
      connection = opened.connection;
      const session = await server.waitForSession();
      await until(() => connection.state === "online");
      session.pause(); // behind: what we write stays queued, so the rest must wait
      session.write(Array.from({ length: 400 }, (_, i) => `<message from='u@h/r' to='r@rooms.test' id='m${i}'/>`).join(""));
      await until(() => handled.length > 0);
      await Bun.sleep(200);
      expect(handled.length).toBeLessThan(400);
      connection.runQueued();
      expect(handled).toEqual(Array.from({ length: 400 }, (_, i) => `m${i}`));
      session.destroy(); // megabytes stay queued for a server that reads none: drop them rather than have stop() wait them out
    });
  });

  test("liveness: a server that routes the pings back stays online; the pings never reach the service", async () => {
    let pings = 0;
    const server = startAcceptServer({
      secret: "s3cret",
      onStanza: (el, session) => {
        if (el.name === "iq" && el.getChild("ping", "urn:xmpp:ping")) {
          pings++;
          session.write(el.toString()); // as Prosody does: a stanza to the component's domain goes to the component
        }
      },
    });
    cleanups.push(() => server.stop());
    const got: Element[] = [];
    const { connection, states } = connect(server, "s3cret", (el) => got.push(el), { ping: { interval: 30, timeout: 200 } });
    await until(() => connection.state === "online");
    await until(() => pings >= 5);
    expect(connection.state).toBe("online");
    expect(states.filter((s) => s === "online")).toHaveLength(1);
    expect(got).toEqual([]);
  });

  test("liveness: a server that stops answering is given up after the deadline and reconnected to", async () => {
    const server = startAcceptServer({ secret: "s3cret" }); // routes nothing back
    cleanups.push(() => server.stop());
    const { connection, states, lines } = connect(server, "s3cret", () => {}, { ping: { interval: 30, timeout: 60 } });
    await until(() => connection.state === "online");
    await until(() => states.filter((s) => s === "online").length >= 2);
    expect(states).toContain("offline");
    expect(lines.some((l) => /did not answer a ping \(XEP-0199\)/.test(String(l.msg)))).toBe(true);
  });

  test("stop() writes everything queued before closing, even to a server slower than the old 2 s, and counts what left", async () => {
    let received = 0;
    const server = startAcceptServer({
      secret: "s3cret",
      onStanza: () => {
        received++;
        const until = performance.now() + 1.5; // a busy server: 3,000 stanzas take it 4.5 s
        while (performance.now() < until);
      },
    });
    cleanups.push(() => server.stop());
    const { connection } = connect(server, "s3cret");
    await server.waitForSession();
    await until(() => connection.state === "online");
    connection.countFromHere();
    connection.send(Array.from({ length: 3000 }, (_, i) => xml("presence", { to: `u${i}@b/c`, type: "unavailable" }, xml("status", { code: "332" }), xml("body", {}, "p".repeat(10_000)))));
    const result = await connection.stop();
    expect(result).toEqual({ sent: 3000, unsent: 0 });
    await until(() => received === 3000, 10_000);
  }, 20_000); // 4.5 s of the server's time alone: past the default 5 s on a busy machine

  /** `received`: stanzas the server has read. */
  function countingServer() {
    const counter = { received: 0 };
    const server = startAcceptServer({ secret: "s3cret", onStanza: () => counter.received++ });
    cleanups.push(() => server.stop());
    return { server, counter };
  }
  const goodbyes = (n: number, bytes: number) =>
    Array.from({ length: n }, (_, i) => xml("presence", { to: `u${i}@b/c`, type: "unavailable" }, xml("status", { code: "332" }), xml("status", {}, "p".repeat(bytes))));

  test("stop() waits for the server's close within 2 s + 1 s per MiB (not `timeout`), also for what the kernel already took", async () => {
    // 1 MB while the server reads nothing for 1.5 s: the kernel takes much of it, so the old wait (queue empty, then `timeout`, 1 s here) reset it.
    const { server, counter } = countingServer();
    const { connection } = connect(server, "s3cret");
    const session = await server.waitForSession();
    await until(() => connection.state === "online");
    session.pauseReading(1500);
    connection.countFromHere();
    connection.send(goodbyes(1000, 1000));
    let bound = 0;
    const result = await connection.stop((ms) => (bound = ms));
    expect(bound).toBeGreaterThan(2000);
    expect(counter.received).toBe(1000);
    expect(result).toEqual({ sent: 1000, unsent: 0 });
  }, 15_000);

  test("stop() past its bound: claims only what the server confirmed, and closes without a reset, so the kernel still delivers the rest", async () => {
    // 400 kB (a bound of 2.4 s) while the server reads nothing for 3 s.
    const { server, counter } = countingServer();
    const { connection } = connect(server, "s3cret");
    const session = await server.waitForSession();
    await until(() => connection.state === "online");
    session.pauseReading(3000);
    connection.countFromHere();
    connection.send(goodbyes(400, 1000));
    expect(await connection.stop()).toEqual({ sent: 0, unsent: 400 });
    await until(() => counter.received === 400, 10_000);
  }, 20_000);

  test("stop() counts as lost the stanzas never written: the rest of a turn past the cap, and any sent after the link went", async () => {
    const server = startAcceptServer({ secret: "s3cret" });
    cleanups.push(() => server.stop());
    const { connection } = connect(server, "s3cret");
    await server.waitForSession();
    await until(() => connection.state === "online");
    const cap = BunTcpSocket.maxQueuedBytes;
    BunTcpSocket.maxQueuedBytes = 256 * 1024;
    try {
      connection.countFromHere();
      // 2 MB in one turn, eight times the cap: given up after about an eighth of it.
      connection.send(Array.from({ length: 2000 }, (_, i) => xml("presence", { to: `u${i}@b/c`, type: "unavailable" }, xml("status", { code: "332" }), xml("status", {}, "z".repeat(1000)))));
      await until(() => connection.state !== "online");
      connection.send([xml("presence", { to: "late@b/c", type: "unavailable" })]); // dropped: offline
    } finally {
      BunTcpSocket.maxQueuedBytes = cap;
    }
    // Before: { sent: 0, unsent: 240 }, and the shutdown log claimed the other 1,760 332s as notified.
    expect(await connection.stop()).toEqual({ sent: 0, unsent: 2001 });
  });

  test("a multi-byte character split across two TCP reads arrives whole", async () => {
    const server = startAcceptServer({ secret: "s3cret" });
    cleanups.push(() => server.stop());
    const got: Element[] = [];
    const { connection } = connect(server, "s3cret", (el) => got.push(el));
    const session = await server.waitForSession();
    await until(() => connection.state === "online");
    const bytes = new TextEncoder().encode("<message from='a@b/c' to='room@rooms.test'><body>Grüße ☕ 𝄞</body></message>");
    const cut = bytes.indexOf(0xf0) + 2; // inside the four bytes of U+1D11E
    session.writeBytes(bytes.subarray(0, cut));
    await Bun.sleep(50);
    session.writeBytes(bytes.subarray(cut));
    await until(() => got.length === 1);
    expect(got[0]!.getChildText("body")).toBe("Grüße ☕ 𝄞");
  });

  test("a refused handshake is logged with a hint and retried with growing delays, secret never logged", async () => {
    const server = startAcceptServer({ secret: "right", refuse: true });
    cleanups.push(() => server.stop());
    const { lines, connection } = connect(server, "wrong-secret");
    await until(() => lines.filter((l) => l.msg?.toString().startsWith("component offline")).length >= 3);
    const offline = lines.filter((l) => String(l.msg).startsWith("component offline"));
    expect(String(offline[0]!.reason)).toContain("check component_secret");
    const delays = offline.map((l) => l.retryInMs as number);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(JSON.stringify(lines)).not.toContain("wrong-secret");
    expect(connection.state).not.toBe("online");
  });

  test("an unreachable server is retried until it appears", async () => {
    const probe = startAcceptServer({ secret: "s" });
    const port = probe.port;
    probe.stop();
    const { logger, lines } = capturingLogger();
    const connection = new ComponentConnection({
      service: `xmpp://127.0.0.1:${port}`,
      domain: "rooms.test",
      secret: "s",
      logger,
      onStanza: () => {},
      backoff: new Backoff({ base: 20, max: 40, random: () => 0 }),
    });
    cleanups.push(() => connection.stop());
    connection.start();
    await until(() => lines.some((l) => String(l.reason).includes("connection refused")));
    expect(connection.state).not.toBe("online");
  });

  test("a lost stream goes offline and reconnects", async () => {
    const server = startAcceptServer({ secret: "s" });
    cleanups.push(() => server.stop());
    const { connection, states } = connect(server, "s");
    const first = await server.waitForSession(1);
    await until(() => connection.state === "online");
    first.destroy();
    await until(() => states.includes("offline"));
    await server.waitForSession(2);
    await until(() => connection.state === "online");
    expect(states.filter((s) => s === "online")).toHaveLength(2);
  });

  test("rejects a service that is not xmpp://host:port, naming the option", () => {
    const { logger } = capturingLogger();
    expect(
      () => new ComponentConnection({ service: "http://x", domain: "d", secret: "s", logger, onStanza: () => {} }),
    ).toThrow(/service/);
  });
});
