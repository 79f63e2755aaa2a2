import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { BunTcpSocket } from "../../src/xmpp/tcp-socket.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A TCP server; `read: false` accepts and then never reads, like a stalled XMPP server. */
async function server(read: boolean, onData: (chunk: Buffer) => void = () => {}): Promise<number> {
  const srv = net.createServer((s) => {
    if (read) s.on("data", onData);
    else s.pause();
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

async function connected(port: number): Promise<BunTcpSocket> {
  const socket = new BunTcpSocket();
  cleanups.push(() => socket.destroy());
  socket.connect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

describe("BunTcpSocket", () => {
  test("delivers a burst far larger than the kernel's buffers, in order, nothing lost", async () => {
    const chunks: Buffer[] = [];
    const port = await server(true, (c) => chunks.push(c));
    const socket = await connected(port);
    const parts = Array.from({ length: 64 }, (_, i) => `${String(i).padStart(4, "0")}${"x".repeat(65_532)}`);
    for (const p of parts) socket.write(p);
    const total = parts.join("").length;
    for (let i = 0; i < 500 && Buffer.concat(chunks).length < total; i++) await Bun.sleep(10);
    expect(Buffer.concat(chunks).toString()).toBe(parts.join(""));
    expect(socket.queuedBytes).toBe(0);
  });

  test("gives up with an error once a server that stopped reading lets too much queue up", async () => {
    const port = await server(false);
    const socket = await connected(port);
    const errors: Error[] = [];
    socket.on("error", (e: Error) => errors.push(e));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    const limit = BunTcpSocket.maxQueuedBytes;
    BunTcpSocket.maxQueuedBytes = 8 * 1024 * 1024;
    try {
      const mb = "y".repeat(1 << 20);
      for (let i = 0; i < 64 && errors.length === 0; i++) {
        socket.write(mb);
        await Bun.sleep(1);
      }
    } finally {
      BunTcpSocket.maxQueuedBytes = limit;
    }
    await closed;
    expect(errors[0]?.message).toMatch(/not reading: \d+ bytes queued/);
  });

  test("stops reading at the high-water mark while the server is behind, reads again once it caught up, nothing lost", async () => {
    let peer: net.Socket | undefined;
    const received: Buffer[] = [];
    const srv = net.createServer((s) => {
      peer = s;
      s.pause(); // behind: reads nothing yet
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => srv.close());
    const socket = await connected((srv.address() as net.AddressInfo).port);
    const got: string[] = [];
    socket.on("data", (text: string) => got.push(text));
    const turns: boolean[] = [];
    socket.on("backpressure", (on: boolean) => turns.push(on));
    const high = BunTcpSocket.highWaterBytes;
    BunTcpSocket.highWaterBytes = 1024 * 1024;
    try {
      const mb = "y".repeat(1 << 20);
      for (let i = 0; i < 8 && !socket.paused; i++) {
        socket.write(mb);
        await Bun.sleep(5);
      }
      expect(socket.paused).toBe(true);
      expect(turns).toEqual([true]);
      // What the server sends meanwhile waits in the kernel, unread.
      peer!.write("<message id='while-paused'/>");
      await Bun.sleep(50);
      const written = socket.queuedBytes;
      expect(written).toBeGreaterThan(0);
      peer!.on("data", (c: Buffer) => received.push(c));
      peer!.resume();
      for (let i = 0; i < 300 && socket.paused; i++) await Bun.sleep(10);
      expect(socket.paused).toBe(false);
      expect(turns).toEqual([true, false]);
      for (let i = 0; i < 300 && !got.join("").includes("while-paused"); i++) await Bun.sleep(10);
      expect(got.join("")).toBe("<message id='while-paused'/>");
      for (let i = 0; i < 300 && socket.queuedBytes > 0; i++) await Bun.sleep(10);
      expect(Buffer.concat(received).toString()).toMatch(/^y+$/);
    } finally {
      BunTcpSocket.highWaterBytes = high;
    }
  });

  test("hold() stops reading whatever the queue, until released; `writable` says when the queue is down to the low-water mark", async () => {
    let peer: net.Socket | undefined;
    const srv = net.createServer((s) => (peer = s));
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => srv.close());
    const socket = await connected((srv.address() as net.AddressInfo).port);
    const got: string[] = [];
    socket.on("data", (text: string) => got.push(text));
    for (let i = 0; i < 100 && !peer; i++) await Bun.sleep(5);
    socket.hold(true);
    expect(socket.paused).toBe(true);
    peer!.write("<message id='held'/>");
    await Bun.sleep(100);
    expect(got).toEqual([]);
    let writable = 0;
    socket.on("writable", () => writable++);
    socket.write("<presence/>");
    expect(writable).toBe(1); // the kernel took it at once: the queue is empty
    socket.hold(false);
    expect(socket.paused).toBe(false);
    for (let i = 0; i < 100 && got.length === 0; i++) await Bun.sleep(5);
    expect(got.join("")).toBe("<message id='held'/>");
  });
});
