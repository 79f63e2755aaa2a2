import { EventEmitter } from "node:events";
import type { Socket } from "bun";

/**
 * The part of node's `net.Socket` that @xmpp/connection uses (`connect`,
 * `write`, `end`, `destroy`; events connect, data, error, close), on Bun's
 * native TCP instead. Two reasons:
 *
 * - Cost. Under load mucgate writes megabytes per second to one stream; in
 *   Bun's node:net that write path was a quarter of a join's CPU time (bench
 *   profile: `writeBuffered`). Here a write is encoded once and handed to the
 *   kernel directly; what it does not take waits in a queue of chunks until
 *   `drain`, and nothing is copied twice.
 * - Correctness. @xmpp/connection decodes each chunk on its own
 *   (`data.toString("utf8")`), which garbles a multi-byte character split
 *   across two TCP reads. This socket hands it strings from one streaming
 *   decoder, so characters arrive whole.
 * - Safety. A server that stops reading would make the queue grow until the
 *   process runs out of memory; past `maxQueuedBytes` the socket gives up
 *   with an error instead, and the component reconnects (rooms are kept).
 */
export class BunTcpSocket extends EventEmitter {
  /** Bytes waiting for the kernel before the connection is given up: 64 MiB, seconds of a busy service's output. */
  static maxQueuedBytes = 64 * 1024 * 1024;

  #socket: Socket<undefined> | undefined;
  readonly #decoder = new TextDecoder("utf-8");
  readonly #encoder = new TextEncoder();
  /** Bytes the kernel has not taken yet, oldest first; the head may be partly written. */
  readonly #queue: Uint8Array[] = [];
  /** Their total. */
  #queued = 0;
  #closed = false;
  /** `end()` was called while bytes were still queued: close once they are written. */
  #ending = false;
  /** node's `socket.secure`: plain TCP. */
  readonly secure = false;

  /** Bytes waiting for the kernel. */
  get queuedBytes(): number {
    return this.#queued;
  }

  connect(options: { host?: string; port?: number | null }): this {
    Bun.connect({
      hostname: options.host ?? "127.0.0.1",
      port: options.port ?? 5347,
      socket: {
        open: (socket) => {
          this.#socket = socket;
          this.emit("connect");
        },
        data: (_socket, bytes) => {
          const text = this.#decoder.decode(bytes, { stream: true });
          if (text) this.emit("data", text);
        },
        drain: () => this.#flush(),
        close: () => this.#onClose(false),
        error: (_socket, error) => this.#fail(error),
        connectError: (_socket, error) => this.#fail(error),
      },
    }).catch((error: unknown) => this.#fail(error));
    return this;
  }

  /** One error per socket (Bun reports a refused connect twice), and never to nobody: an unheard 'error' would throw. */
  #fail(error: unknown): void {
    if (this.#closed) return;
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.#onClose(true);
  }

  /** Queue `data`; `callback` runs once it is handed over (node calls it when flushed; nothing here waits on it). */
  write(data: string | Uint8Array, callback?: (err?: Error) => void): boolean {
    if (this.#closed || !this.#socket) {
      const err = new Error("socket is not open");
      if (callback) queueMicrotask(() => callback(err));
      return false;
    }
    const bytes = typeof data === "string" ? this.#encoder.encode(data) : data;
    if (bytes.byteLength > 0) {
      this.#queue.push(bytes);
      this.#queued += bytes.byteLength;
      if (this.#queue.length === 1) this.#flush();
      if (this.#queued > BunTcpSocket.maxQueuedBytes) {
        this.#fail(new Error(`the XMPP server is not reading: ${this.#queued} bytes queued`));
        this.#socket?.terminate();
        return false;
      }
    }
    if (callback) queueMicrotask(() => callback());
    return this.#queue.length === 0;
  }

  /** Close once everything queued is written (node's `end()`). */
  end(): this {
    if (this.#queue.length === 0) this.#socket?.end();
    else this.#ending = true;
    return this;
  }

  destroy(): this {
    this.#queue.length = 0;
    this.#queued = 0;
    this.#socket?.terminate();
    this.#onClose(false);
    return this;
  }

  #flush(): void {
    const socket = this.#socket;
    if (!socket) return;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const written = socket.write(head);
      if (written < 0) return; // closed; `close` follows
      this.#queued -= written;
      if (written < head.byteLength) {
        this.#queue[0] = head.subarray(written);
        return; // the kernel is full: `drain` calls back
      }
      this.#queue.shift();
    }
    if (this.#ending) socket.end();
  }

  #onClose(hadError: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.emit("close", hadError);
  }
}
