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
});
