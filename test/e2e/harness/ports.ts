import { createServer } from "node:net";

/**
 * Free loopback TCP ports for servers that must be told their port up front
 * (Prosody, mucgate). The kernel picks a free one when we bind port 0; we close
 * the probe and hand the number out. Another process could take it before the
 * real server binds, so callers that can should retry on "address in use";
 * within this process we never hand out the same number twice, because two
 * servers started back to back would otherwise often get the same port.
 */
const handedOut = new Set<number>();

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not read the probe's port"))));
    });
  });
}

/** One free port on 127.0.0.1, never returned before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("freePort: the kernel kept returning ports this process already handed out");
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
