import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { AUTH, DOMAIN, httpFixture, statuses, to } from "./fixture.ts";

/** The app on a real Bun.serve port, as mucgate.ts runs it. */
describe("the HTTP API over a real socket", () => {
  const f = httpFixture();
  let server: ReturnType<typeof Bun.serve>;
  let base: string;

  beforeAll(() => {
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: f.app.fetch });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.stop(true);
  });

  test("a kick over fetch answers 200 and sends the 307 presences", async () => {
    f.join("bob@b.test/pc", "lobby", "Bob");
    f.join("alice@a.test/phone", "lobby", "Alice");
    const res = await fetch(`${base}/muc_kick`, {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: JSON.stringify({ nickname: "Bob", muc: `lobby@${DOMAIN}`, reason: "bye" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ kicked: ["Bob"], muc: `lobby@${DOMAIN}` });
    expect(statuses(to(f.sent, "bob@b.test/pc")[0]!).sort()).toEqual(["110", "307"]);
    expect(statuses(to(f.sent, "alice@a.test/phone")[0]!)).toEqual(["307"]);
  });

  test("a body that stalls mid-way gets 408 with a JSON error, not a closed connection", async () => {
    const socket = connect(Number(server.port), "127.0.0.1");
    const received: Buffer[] = [];
    const answered = new Promise<string>((resolve) => {
      socket.on("data", (d) => {
        received.push(Buffer.from(d));
        const text = Buffer.concat(received).toString("latin1");
        if (text.includes("}")) resolve(text);
      });
      socket.on("close", () => resolve(Buffer.concat(received).toString("latin1")));
    });
    socket.write(`POST /muc_kick HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"nick`);
    const text = await answered;
    socket.destroy();
    expect(text).toStartWith("HTTP/1.1 408");
    expect(JSON.parse(text.slice(text.indexOf("{")))).toEqual({ error: "Request body not received within 5 s" });
  });

  test("an oversized chunked body without Content-Length is 413 on the wire", async () => {
    // Raw HTTP/1.1 so that the request certainly carries no Content-Length.
    const socket = connect(Number(server.port), "127.0.0.1");
    const received: Buffer[] = [];
    const done = new Promise<string>((resolve) => {
      socket.on("data", (d) => received.push(Buffer.from(d)));
      socket.on("close", () => resolve(Buffer.concat(received).toString("latin1")));
      socket.on("error", () => resolve(Buffer.concat(received).toString("latin1")));
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /muc_kick HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
        `Authorization: ${AUTH}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = "x".repeat(16 * 1024);
    for (let i = 0; i < 8 && !socket.destroyed; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    if (!socket.destroyed) socket.write("0\r\n\r\n");
    const reply = await Promise.race([done, Bun.sleep(5000).then(() => Buffer.concat(received).toString("latin1"))]);
    socket.destroy();
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(reply).toContain('{"error":"Request body is larger than 65536 bytes (64 KiB)"}');
  });

  test("a streamed oversized body from fetch is 413 too, and the server keeps answering", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 512 * 1024) return controller.close();
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        sent += 16 * 1024;
      },
    });
    const res = await fetch(`${base}/muc_kick`, {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body,
    }).catch((err: unknown) => err);
    // Answering before the upload ends may cut the upload; if the client saw the answer, it is 413.
    if (res instanceof Response) {
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: "Request body is larger than 65536 bytes (64 KiB)" });
    }
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
  });
});
