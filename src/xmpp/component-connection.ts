import { Component } from "@xmpp/component-core";
import { xml, type Element } from "@xmpp/xml";
import type { Logger } from "../log.ts";
import { Backoff } from "./backoff.ts";
import { ByteSink } from "./byte-sink.ts";
import { serializeInto } from "./serialize.ts";
import { Liveness, type Clock } from "./liveness.ts";
import { BunTcpSocket } from "./tcp-socket.ts";

export type ConnectionState = "connecting" | "online" | "offline" | "stopped";

export interface ComponentConnectionOptions {
  /** `xmpp://host:port` of the server's component listener. */
  service: string;
  domain: string;
  secret: string;
  logger: Logger;
  /** Called for every stanza; must not throw (errors are logged). */
  onStanza: (stanza: Element) => void;
  onState?: (state: ConnectionState) => void;
  backoff?: Backoff;
  /** ms to wait for the server at each step of connecting. */
  timeout?: number;
  /** `component_stanza_size_limit`: a larger stanza is never written (the server would close the stream). */
  maxStanzaBytes?: number;
  /** XEP-0199 liveness (liveness.ts), in ms: `component_ping_interval`, `component_ping_timeout`. Off without it. */
  ping?: { readonly interval: number; readonly timeout: number };
  /** Stanzas produced but not yet handed to `send` (the outbox waiting for a commit): held back like bytes queued. */
  backlog?: () => number;
  clock?: Clock;
}

/**
 * The XEP-0114 link to the XMPP server, kept up for as long as mucgate runs.
 *
 * It uses @xmpp/component-core's `Component` rather than the `component()`
 * factory of @xmpp/component: the factory installs an IQ middleware that
 * answers every IQ it has no handler for with service-unavailable, which
 * would double-answer the IQs the MUC core handles.
 *
 * Connecting never throws and never gives up: a refused handshake (wrong
 * secret), an unreachable server or a lost stream each log one clear line
 * and retry after a capped, jittered backoff (an unhandled
 * `start()` rejection would kill the process; the library's own reconnect
 * only covers a link that was once up, at a fixed 1 s).
 */
export class ComponentConnection {
  readonly #options: ComponentConnectionOptions;
  readonly #backoff: Backoff;
  #entity: Component | undefined;
  #state: ConnectionState = "offline";
  #retry: ReturnType<typeof setTimeout> | undefined;
  #outgoing = new ByteSink();
  #flushQueued = false;
  #liveness: Liveness | undefined;
  /** Stanzas read from the server, and work deferred behind them, not yet run; oldest first (see `#pump`). */
  readonly #tasks: (() => void)[] = [];
  #pumping = false;
  #awaitingWritable = false;
  #resumeScheduled = false;
  #yieldedLastTime = false;
  /** While stopping: where counting started (bytes of the stream) and where each stanza since ends, relative to it. */
  #counting: { base: number; ends: number[] } | undefined;

  constructor(options: ComponentConnectionOptions) {
    if (typeof options.service !== "string" || !options.service.startsWith("xmpp://")) throw new TypeError("service: expected xmpp://host:port");
    if (!options.domain) throw new TypeError("domain: required");
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Start connecting (and keep reconnecting); returns at once. */
  start(): void {
    if (this.#state !== "offline") return;
    void this.#connect();
  }

  /**
   * Queue stanzas for the stream. Everything sent during one turn of the
   * event loop (typically: every answer to one TCP read from the server)
   * leaves in a single socket write at the end of the turn, serialised by
   * `serializeInto()`; a write and a promise per stanza was a quarter of a
   * join's cost. Dropped, with a debug line, while offline.
   */
  send(stanzas: Element[]): void {
    if (stanzas.length === 0) return;
    if (this.#state !== "online" || !this.#entity) {
      this.#options.logger.debug({ count: stanzas.length }, "component offline: stanzas dropped");
      this.#lost(stanzas.length);
      return;
    }
    const max = this.#options.maxStanzaBytes ?? Infinity;
    const sink = this.#outgoing;
    const socket = this.#entity.socket;
    // What the socket already holds counts against its cap, so a turn that would pass it stops here, not after it was all written.
    const queued = socket instanceof BunTcpSocket ? socket.queuedBytes : 0;
    const handedOver = socket instanceof BunTcpSocket ? socket.writtenBytes + queued : 0;
    for (const stanza of stanzas) {
      const before = sink.length;
      serializeInto(stanza, sink);
      if (queued + sink.length > BunTcpSocket.maxQueuedBytes && socket instanceof BunTcpSocket) {
        const total = queued + sink.length;
        sink.take();
        socket.giveUp(`the XMPP server is not reading: ${total} bytes queued`);
        this.#lost(stanzas.length - stanzas.indexOf(stanza)); // this one and the rest of the turn; those before are past what was written
        return;
      }
      if (sink.length - before > max) {
        const size = sink.length - before;
        sink.truncate(before);
        this.#oversized(stanza, size, max);
      }
      if (this.#counting) this.#counting.ends.push(handedOver + sink.length - this.#counting.base);
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /** While counting: `count` stanzas that never reach the socket, so that `stop()` counts them as unsent. */
  #lost(count: number): void {
    if (this.#counting) for (let i = 0; i < count; i++) this.#counting.ends.push(Infinity);
  }

  /**
   * The last guard of the stream: input limits (stanza-limits.ts) keep what
   * users send small enough, but a value stored before they existed may not
   * be. One stanza is lost, never the link; an IQ result is answered with an
   * error instead, so the asker is not left waiting.
   */
  #oversized(stanza: Element, size: number, max: number): void {
    const { name, attrs } = stanza;
    this.#options.logger.warn({ stanza: name, type: attrs.type, from: attrs.from, to: attrs.to, bytes: size, limit: max }, "stanza over component_stanza_size_limit not sent");
    if (name !== "iq" || attrs.type !== "result") return;
    const error = xml(
      "iq",
      { type: "error", from: attrs.from, to: attrs.to, id: attrs.id },
      xml("error", { type: "cancel" }, xml("policy-violation", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }), xml("text", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }, "The answer is larger than the server accepts")),
    );
    serializeInto(error, this.#outgoing);
  }

  /** Write what is queued now (also used before closing the stream). */
  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#outgoing.length === 0) return;
    const bytes = this.#outgoing.take();
    const socket = this.#entity?.socket;
    if (!socket) return;
    try {
      // The socket queues what the kernel does not take yet; nothing is lost.
      socket.write(bytes);
    } catch (err) {
      this.#options.logger.warn({ err: String(err) }, "component write failed");
    }
  };

  /**
   * From now on, count the stanzas sent, so that `stop()` can say how many
   * of them actually left (the shutdown's 332s: issue 13 found the log
   * claiming every one while the socket was reset with most still queued).
   */
  countFromHere(): void {
    const socket = this.#entity?.socket;
    this.#counting = { base: (socket instanceof BunTcpSocket ? socket.writtenBytes + socket.queuedBytes : 0) + this.#outgoing.length, ends: [] };
  }

  /**
   * Close the stream and stop reconnecting. Everything queued is written
   * first, and then the server's own stream close awaited: it answers ours
   * once it has read everything before it, so only then is what was written
   * known to have arrived (the kernel takes megabytes the server has not read
   * yet). Both within 2 s + 1 s per MiB the server has not confirmed (a
   * server reading 1 MiB/s keeps up), told to `onBound` as soon as known;
   * past it the socket is closed gracefully, so the kernel still delivers
   * what it holds. Resolves with how many stanzas counted since
   * `countFromHere()` the server confirmed, and how many not.
   */
  async stop(onBound?: (ms: number) => void): Promise<{ sent: number; unsent: number }> {
    clearTimeout(this.#retry);
    this.#liveness?.stop();
    this.#flush(); // what was sent before stop() still goes out, ahead of the stream's end
    const entity = this.#entity;
    const online = this.#state === "online";
    this.#setState("stopped");
    if (!entity) return this.#tally(0);
    const socket = entity.socket instanceof BunTcpSocket ? entity.socket : undefined;
    const since = Math.min(this.#counting?.base ?? Infinity, socket?.writtenBytes ?? 0);
    const unconfirmed = socket ? socket.writtenBytes + socket.queuedBytes - since : 0;
    const bound = flushBound(unconfirmed);
    onBound?.(bound);
    const deadline = performance.now() + bound;
    while (socket && socket.queuedBytes > 0 && !socket.closed && performance.now() < deadline) await Bun.sleep(5);
    const written = socket ? socket.writtenBytes : 0;
    let confirmed = false;
    entity.parser?.once("end", () => (confirmed = true));
    // The library waits for the server's close, then for the socket's, each at most `timeout`.
    entity.timeout = Math.max(1, deadline - performance.now());
    try {
      await Promise.race([entity.stop(), Bun.sleep(entity.timeout + 50)]);
    } catch {
      // the stream is going away either way
    }
    this.#discard(entity, online);
    return this.#tally(confirmed ? written : since);
  }

  #tally(written: number): { sent: number; unsent: number } {
    const counting = this.#counting;
    if (!counting) return { sent: 0, unsent: 0 };
    let sent = 0;
    while (sent < counting.ends.length && counting.ends[sent]! <= written - counting.base) sent++;
    return { sent, unsent: counting.ends.length - sent };
  }

  async #connect(): Promise<void> {
    const { service, domain, secret, logger } = this.#options;
    this.#setState("connecting");
    const entity = new Component({ service, domain });
    entity.Socket = BunTcpSocket;
    entity.timeout = this.#options.timeout ?? 5000;
    this.#entity = entity;
    let lastError: unknown;
    entity.on("error", (err: unknown) => {
      lastError = err;
    });
    entity.on("open", async (header: Element) => {
      try {
        await entity.authenticate(header.attrs.id ?? "", secret);
      } catch (err) {
        entity.emit("error", err);
      }
    });
    entity.on("stanza", (stanza: Element) => {
      if (this.#liveness?.heard(stanza)) return;
      this.schedule(() => this.#options.onStanza(stanza));
    });
    try {
      await entity.start();
    } catch (err) {
      if (this.#state === "stopped") return;
      this.#discard(entity);
      this.#scheduleRetry(describe(lastError ?? err));
      return;
    }
    if (this.#state === "stopped") {
      this.#discard(entity);
      return;
    }
    entity.on("disconnect", () => {
      if (this.#entity !== entity || this.#state === "stopped") return;
      this.#discard(entity);
      this.#scheduleRetry(`stream lost${lastError ? `: ${describe(lastError)}` : ""}`);
    });
    this.#backoff.reset();
    this.#setState("online");
    logger.info({ service, domain }, "component online");
    this.#watch(entity);
  }

  /**
   * Run `task` in its turn with the stanzas read from the server: for work
   * that resumes later (a join once its room is loaded or the gate decided),
   * so that its answers are held back like any stanza's (see `#pump`).
   */
  schedule(task: () => void): void {
    this.#tasks.push(task);
    this.#pump();
  }

  /**
   * Resolves once what waits for the server is down to the socket's
   * low-water mark, the link is not up, or `until` (performance.now()) has
   * passed: for senders that pace themselves (the shutdown's 332s).
   */
  async drained(until: number): Promise<void> {
    this.#flush();
    for (;;) {
      const socket = this.#entity?.socket;
      if (!(socket instanceof BunTcpSocket) || socket.closed || socket.queuedBytes + this.#outgoing.length <= BunTcpSocket.lowWaterBytes) return;
      if (performance.now() >= until) return;
      await Bun.sleep(5);
    }
  }

  /**
   * Run every task still waiting, now, whatever the server's backlog: at
   * shutdown, so that what the server handed us gets its answer (an entry:
   * its refusal) before the stream closes.
   */
  runQueued(): void {
    while (this.#tasks.length > 0) this.#runNext();
  }

  /** Run the oldest task; a task that throws is a bug, logged, and never stops the ones after it. */
  #runNext(): void {
    const task = this.#tasks.shift()!;
    try {
      task();
    } catch (err) {
      this.#options.logger.error({ err }, "bug: stanza handler threw");
    }
  }

  /**
   * Handle what the server sent, one stanza at a time, while what waits for
   * the server stays under the high-water mark. Pausing the socket alone is
   * not enough: one TCP read can carry a few hundred joins, and into a room
   * of 600 each join is 1,200 presences, so one read's answers were 70 MiB
   * and passed the cap before the socket could pause (issue 13, the
   * 1,000-occupant fill). Past the mark, reading is held and the rest waits
   * here until the socket is down to its low-water mark. Stanzas still
   * upstream (`backlog`: the outbox waits for the end of the turn, or for a
   * commit) are not bytes yet: past `YIELD_AT` of them, the rest waits for a
   * later turn, when they are.
   */
  readonly #pump = (): void => {
    if (this.#pumping || this.#resumeScheduled) return;
    this.#pumping = true;
    try {
      while (this.#tasks.length > 0) {
        const socket = this.#liveSocket();
        if (socket && socket.queuedBytes + this.#outgoing.length >= BunTcpSocket.highWaterBytes) {
          this.#awaitWritable(socket);
          return;
        }
        if (socket && (this.#options.backlog?.() ?? 0) >= YIELD_AT) {
          socket.hold(true);
          // The next turn, once the outbox's end of turn has run; 1 ms apart while a slow commit keeps them upstream.
          this.#resumeScheduled = true;
          const again = () => {
            this.#resumeScheduled = false;
            this.#pump();
          };
          if (this.#yieldedLastTime) setTimeout(again, 1);
          else setImmediate(again);
          this.#yieldedLastTime = true;
          return;
        }
        this.#yieldedLastTime = false;
        this.#runNext();
      }
      this.#liveSocket()?.hold(false);
    } finally {
      this.#pumping = false;
    }
  };

  /** The socket of the stream that is up, if it is one whose queue can be read. */
  #liveSocket(): BunTcpSocket | undefined {
    const socket = this.#entity?.socket;
    return this.#state === "online" && socket instanceof BunTcpSocket ? socket : undefined;
  }

  #awaitWritable(socket: BunTcpSocket): void {
    socket.hold(true);
    if (this.#awaitingWritable) return;
    this.#awaitingWritable = true;
    socket.once("writable", () => {
      this.#awaitingWritable = false;
      if (this.#liveSocket() === socket) this.#pump();
    });
  }

  /** Ping the server when it is quiet; reconnect when it stays silent (liveness.ts). */
  #watch(entity: Component): void {
    const ping = this.#options.ping;
    if (!ping) return;
    const liveness = new Liveness({
      domain: this.#options.domain,
      interval: ping.interval,
      timeout: ping.timeout,
      clock: this.#options.clock,
      send: (stanza) => this.send([stanza]),
      written: () => (entity.socket instanceof BunTcpSocket ? entity.socket.writtenBytes : 0),
      paused: () => entity.socket instanceof BunTcpSocket && entity.socket.paused,
      onDead: (silentMs) => {
        if (this.#entity !== entity || this.#state !== "online") return;
        this.#discard(entity);
        this.#scheduleRetry(`the server did not answer a ping (XEP-0199) within ${ping.timeout / 1000} s; silent for ${Math.round(silentMs / 1000)} s`);
      },
    });
    this.#liveness = liveness;
    liveness.start();
  }

  #scheduleRetry(reason: string): void {
    const delay = this.#backoff.next();
    this.#setState("offline");
    this.#options.logger.warn(
      { service: this.#options.service, domain: this.#options.domain, reason, retryInMs: delay, attempt: this.#backoff.attempts },
      `component offline: ${reason}; retrying in ${delay} ms`,
    );
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }

  /** Forget an entity: no more events from it, its socket closed (`graceful`: after what the kernel holds, not reset). */
  #discard(entity: Component, graceful = false): void {
    if (this.#entity === entity) {
      this.#liveness?.stop();
      this.#liveness = undefined;
    }
    entity.removeAllListeners();
    entity.on("error", () => {}); // late socket errors must not become uncaught
    try {
      if (graceful) entity.socket?.end?.();
      else entity.socket?.destroy?.();
    } catch {
      // already closed
    }
    if (this.#entity === entity) {
      this.#entity = undefined;
      this.#outgoing.take(); // written for a stream that is gone; never replayed on the next one
      this.#awaitingWritable = false;
      // What waits still runs (a join's gate decision must land); its answers are dropped while offline, as anything sent then.
      if (this.#tasks.length > 0) queueMicrotask(this.#pump);
    }
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onState?.(state);
  }
}

/** How long `bytes` may take to reach the server: 2 s + 1 s per MiB (a server reading 1 MiB/s keeps up). */
export function flushBound(bytes: number): number {
  return 2000 + (1000 * bytes) / (1024 * 1024);
}

/** Stanzas waiting upstream (`backlog`) at which the rest waits for a later turn: about the high-water mark's bytes. */
const YIELD_AT = 10_000;

/** One line an operator can act on, from whatever the library threw. */
function describe(err: unknown): string {
  const e = err as { condition?: string; code?: string; name?: string; message?: string } | undefined;
  let text: string;
  if (e?.condition === "not-authorized") text = "handshake refused (not-authorized): check component_secret";
  else if (e?.condition === "conflict") text = "another component is already connected for this domain (conflict)";
  else if (e?.condition === "host-unknown") text = "the server does not know this component domain (host-unknown): check component_jid";
  else if (e?.condition) text = `stream error: ${e.condition}`;
  else if (e?.code === "ECONNREFUSED") text = "connection refused: is the XMPP server's component port right?";
  else if (e?.name === "TimeoutError") text = "the server did not answer in time";
  else text = e?.message ?? String(err);
  return text;
}
