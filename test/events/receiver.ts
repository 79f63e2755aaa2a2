import type { Server } from "bun";

/** One POST the receiver got. */
export interface Received {
  readonly body: string;
  readonly event: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly at: number;
}

/**
 * A real HTTP events receiver for tests: records every POST, answers with
 * `status` after `delayMs`, and can go down (its listener closed) and come
 * back on the same port.
 */
export class Receiver {
  readonly got: Received[] = [];
  /** Answer of each request: a status, after a delay. */
  status = 204;
  delayMs = 0;
  #server: Server<undefined> | undefined;
  #port = 0;

  start(): this {
    this.#server = Bun.serve({
      hostname: "127.0.0.1",
      port: this.#port,
      idleTimeout: 0,
      fetch: async (req) => {
        const body = await req.text();
        const headers: Record<string, string> = {};
        req.headers.forEach((v, k) => (headers[k] = v));
        if (this.delayMs > 0) await Bun.sleep(this.delayMs);
        const status = this.status;
        if (status >= 200 && status <= 299) this.got.push({ body, event: JSON.parse(body) as Record<string, unknown>, headers, at: Date.now() });
        return new Response(null, { status });
      },
    });
    this.#port = this.#server.port ?? 0;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/events`;
  }

  /** Down: the port refuses connections until `start()` again. */
  async stop(): Promise<void> {
    await this.#server?.stop(true);
    this.#server = undefined;
  }

  /** Resolves once `n` events have been taken. */
  async waitFor(n: number, timeout = 5000): Promise<Received[]> {
    const until = Date.now() + timeout;
    while (this.got.length < n) {
      if (Date.now() > until) throw new Error(`receiver: ${this.got.length} of ${n} events within ${timeout} ms`);
      await Bun.sleep(5);
    }
    return this.got;
  }
}
