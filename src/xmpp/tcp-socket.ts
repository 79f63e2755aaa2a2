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
 * - Back-pressure. A server that reads slower than mucgate writes (Prosody
 *   at 100 % CPU under a 1,000-occupant room fill) makes the queue grow;
 *   past `highWaterBytes` the socket stops reading what the server sends, so
 *   mucgate stops producing answers to it, and reads again once the queue
 *   is below a quarter of that. Nothing is dropped (issue 13). The owner
 *   can also `hold` reading while it has read stanzas it has not handled.
 * - Safety. A server that stops reading entirely would still make the queue
 *   grow (timers, HTTP kicks); past `maxQueuedBytes` the socket gives up
 *   with an error instead, and the component reconnects (rooms are kept).
 */
export class BunTcpSocket extends EventEmitter {
  /** Bytes waiting for the kernel before the connection is given up: 64 MiB, seconds of a busy service's output. */
  static maxQueuedBytes = 64 * 1024 * 1024;
  /** Bytes waiting for the kernel at which reading stops until they are written: 4 MiB. */
  static highWaterBytes = 4 * 1024 * 1024;

  #socket: Socket<undefined> | undefined;
  readonly #decoder = new TextDecoder("utf-8");
  readonly #encoder = new TextEncoder();
  /** Bytes the kernel has not taken yet, oldest first; the head may be partly written. */
  readonly #queue: Uint8Array[] = [];
  /** Their total. */
  #queued = 0;
  #closed = false;
  /** Bytes the kernel has taken, ever. */
  #written = 0;
  /** Reading stopped: the server is behind with what we wrote. */
  #paused = false;
  /** Reading held by the owner: it has stanzas read but not yet handled (see `hold`). */
  #held = false;
  /** What the Bun socket was last told: reading stopped or not. */
  #readingStopped = false;
  /** `end()` was called while bytes were still queued: close once they are written. */
  #ending = false;
  /** node's `socket.secure`: plain TCP. */
  readonly secure = false;

  /** Bytes waiting for the kernel. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Bytes handed to the kernel since the socket opened (the server is reading while this grows). */
  get writtenBytes(): number {
    return this.#written;
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether reading is stopped for back-pressure (ours, or the owner's `hold`). */
  get paused(): boolean {
    return this.#paused || this.#held;
  }

  /** Bytes queued at or below which reading resumes and `writable` is emitted: a quarter of the high-water mark. */
  static get lowWaterBytes(): number {
    return BunTcpSocket.highWaterBytes / 4;
  }

  /**
   * Stop (or restart) reading on the owner's behalf: it holds stanzas it
   * read but does not handle until the queue is lower (one TCP read can
   * hold hundreds of joins whose answers are tens of MiB). Listen for
   * `writable` to know when.
   */
  hold(on: boolean): void {
    this.#held = on;
    this.#applyReading();
  }

  #applyReading(): void {
    const stop = this.#paused || this.#held;
    if (stop === this.#readingStopped || !this.#socket) return;
    this.#readingStopped = stop;
    if (stop) this.#socket.pause();
    else this.#socket.resume();
  }

  /**
   * Give the connection up now (the queue is over what memory may hold):
   * one error, then close. Also used by the writer that checks the cap while
   * it serialises, before the bytes reach `write`.
   */
  giveUp(reason: string): void {
    this.#fail(new Error(reason));
    this.#socket?.terminate();
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
        this.giveUp(`the XMPP server is not reading: ${this.#queued} bytes queued`);
        return false;
      }
      if (!this.#paused && this.#queued >= BunTcpSocket.highWaterBytes) {
        this.#paused = true;
        this.#applyReading();
        this.emit("backpressure", true);
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
      this.#written += written;
      if (written < head.byteLength) {
        this.#queue[0] = head.subarray(written);
        this.#resumeIfDrained();
        return; // the kernel is full: `drain` calls back
      }
      this.#queue.shift();
    }
    this.#resumeIfDrained();
    if (this.#ending) socket.end();
  }

  #resumeIfDrained(): void {
    if (this.#queued > BunTcpSocket.lowWaterBytes) return;
    if (this.#paused) {
      this.#paused = false;
      this.#applyReading();
      this.emit("backpressure", false);
    }
    if (this.listenerCount("writable") > 0) this.emit("writable");
  }

  #onClose(hadError: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.emit("close", hadError);
  }
}
