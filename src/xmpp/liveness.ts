import { xml, type Element } from "@xmpp/xml";

/** Timers and time, injectable so tests need not wait. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface LivenessOptions {
  /** The component's domain: the ping goes from it, to it, through the server and back. */
  readonly domain: string;
  /** ms without hearing from the server before a ping. */
  readonly interval: number;
  /** ms after a ping within which something must be heard. */
  readonly timeout: number;
  readonly send: (stanza: Element) => void;
  /** Bytes the server has taken from us so far. */
  readonly written: () => number;
  /** Whether we stopped reading (back-pressure): then nothing can be heard, and the server taking our bytes is what shows it lives. */
  readonly paused: () => boolean;
  /** Called once when the server stays silent past the deadline. */
  readonly onDead: (silentMs: number) => void;
  readonly clock?: Clock;
}

const PING_ID = "mucgate-liveness-";

/**
 * XEP-0199 §4.3-style liveness of the component stream: a stopped or
 * stalled server keeps the TCP connection open and says nothing, which
 * left `/health` "online" for a minute and more (issue 13). After
 * `interval` without a stanza from the server, a ping goes out, addressed
 * to the component's own domain so that the server routes it back to us —
 * the whole round trip, whatever the server's domain is. Anything heard
 * within `timeout` (the ping itself, its answer, or any other stanza) keeps
 * the link; so does, while we are not reading because the server is behind
 * (back-pressure), the server still taking what we wrote. Else
 * `onDead`: the caller reconnects.
 */
export class Liveness {
  readonly #o: LivenessOptions;
  readonly #clock: Clock;
  #heard = 0;
  #pingAt: number | undefined;
  #writtenAtPing = 0;
  #timer: unknown;
  #seq = 0;
  #running = false;

  constructor(options: LivenessOptions) {
    if (!(options.interval > 0) || !(options.timeout > 0)) throw new TypeError("interval, timeout: must be > 0 ms");
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  start(): void {
    this.stop();
    this.#running = true;
    this.#heard = this.#clock.now();
    this.#schedule(this.#o.interval);
  }

  stop(): void {
    this.#running = false;
    this.#pingAt = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A stanza arrived from the server. Returns true when it is one of our
   * own pings or their answers, which go no further.
   */
  heard(stanza: Element): boolean {
    this.#heard = this.#clock.now();
    this.#pingAt = undefined;
    const { id, from, to } = stanza.attrs;
    return stanza.name === "iq" && typeof id === "string" && id.startsWith(PING_ID) && from === this.#o.domain && to === this.#o.domain;
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(this.#check, Math.max(1, ms));
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#clock.now();
    const { interval, timeout } = this.#o;
    if (this.#pingAt === undefined) {
      const idle = now - this.#heard;
      if (idle < interval) return this.#schedule(interval - idle);
      this.#pingAt = now;
      this.#writtenAtPing = this.#o.written();
      const domain = this.#o.domain;
      this.#o.send(xml("iq", { type: "get", from: domain, to: domain, id: PING_ID + ++this.#seq }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      return this.#schedule(timeout);
    }
    const waited = now - this.#pingAt;
    if (waited < timeout) return this.#schedule(timeout - waited);
    const written = this.#o.written();
    if (this.#o.paused() && written > this.#writtenAtPing) {
      // Behind, but reading: give it another deadline.
      this.#pingAt = now;
      this.#writtenAtPing = written;
      return this.#schedule(timeout);
    }
    this.#running = false;
    this.#o.onDead(now - this.#heard);
  };
}
