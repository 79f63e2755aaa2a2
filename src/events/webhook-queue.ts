import type { FetchLike } from "../auth/auth-client.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { Backoff } from "../xmpp/backoff.ts";
import type { RoomEvent } from "./room-event.ts";
import { SIGNATURE_HEADER, signature } from "./webhook-signature.ts";

export interface WebhookQueueOptions {
  /** `muc_events_url`: where each event is POSTed. */
  readonly url: string;
  /** `muc_events_secret`: signs each body (webhook-signature.ts); unsigned without it. */
  readonly secret?: string | undefined;
  /** Seconds one delivery attempt may take. */
  readonly timeout: number;
  /** `muc_events_queue_size`: most events waiting; when full the oldest is dropped. */
  readonly maxQueued: number;
  /** Rooms delivered to at once (each room's events go one after the other). Default 4. */
  readonly concurrency?: number;
  /** Retry delays, ms (capped exponential, jittered). Default 500 ms up to 30 s. */
  readonly backoff?: { readonly base: number; readonly max: number; readonly random?: () => number } | undefined;
  readonly fetch?: FetchLike | undefined;
  /** Waits `ms`; injectable (default setTimeout). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly metrics?: Metrics | undefined;
  readonly logger?: Logger | undefined;
}

interface Entry {
  readonly event: RoomEvent;
  readonly lane: Lane;
  state: "queued" | "taken" | "dropped";
}

interface Lane {
  readonly room: string;
  readonly queue: Entry[];
  busy: boolean;
  ready: boolean;
}

/** Whether an answer means the receiver may take it later: 5xx, 408 and 429 are retried; other 4xx refuse the event for good. */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Delivers room events to the operator's backend, off the hot path
 * (README "Events"): `push` only appends to a queue. Each room's events go
 * in order, one at a time, each retried with capped backoff until the
 * receiver takes it (2xx) or refuses it for good (a 4xx other than 408 and
 * 429); rooms are served side by side. At most `maxQueued` events wait:
 * when full, the oldest waiting one is dropped, counted, and logged (one
 * line a second at most). A slow or dead receiver never slows joins or
 * messages: it only fills the queue.
 */
export class WebhookQueue {
  readonly #o: WebhookQueueOptions;
  readonly #fetch: FetchLike;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #lanes = new Map<string, Lane>();
  /** Every queued entry, oldest first (dropped and taken ones are skipped lazily). */
  #order: Entry[] = [];
  #orderHead = 0;
  /** Lanes with events and nothing in flight, in the order they became so. */
  readonly #ready: Lane[] = [];
  #queued = 0;
  #active = 0;
  #closed = false;
  #droppedUnlogged = 0;
  #dropLogScheduled = false;
  readonly #idle = new Set<() => void>();

  constructor(options: WebhookQueueOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TypeError("url: not a valid URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError("url: must be http:// or https://");
    if (!(options.timeout > 0)) throw new TypeError("timeout: must be a positive number of seconds");
    if (!Number.isSafeInteger(options.maxQueued) || options.maxQueued < 1) throw new TypeError("maxQueued: must be a positive integer");
    const concurrency = options.concurrency ?? 4;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new TypeError("concurrency: must be a positive integer");
    this.#o = options;
    this.#concurrency = concurrency;
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchLike);
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#logger = options.logger ?? silentLogger;
  }

  /** Events waiting (not yet being delivered). */
  get queued(): number {
    return this.#queued;
  }

  /** Queue one event; never blocks, never throws. */
  push(event: RoomEvent): void {
    if (this.#closed) return;
    if (this.#queued >= this.#o.maxQueued) this.#dropOldest();
    let lane = this.#lanes.get(event.room);
    if (!lane) {
      lane = { room: event.room, queue: [], busy: false, ready: false };
      this.#lanes.set(event.room, lane);
    }
    const entry: Entry = { event, lane, state: "queued" };
    lane.queue.push(entry);
    this.#order.push(entry);
    this.#queued++;
    this.#o.metrics?.events.queued.inc();
    if (!lane.busy && !lane.ready) {
      lane.ready = true;
      this.#ready.push(lane);
    }
    this.#pump();
  }

  /**
   * Stop: wait up to `graceMs` for what is queued and in flight to be
   * delivered, then give up on the rest (logged with its count).
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#queued > 0 || this.#active > 0) {
      await Promise.race([new Promise<void>((resolve) => this.#idle.add(resolve)), this.#sleep(graceMs)]);
    }
    this.#closed = true;
    if (this.#queued > 0 || this.#active > 0) {
      this.#logger.warn({ undelivered: this.#queued + this.#active }, "room events not delivered at shutdown");
    }
  }

  #dropOldest(): void {
    while (this.#orderHead < this.#order.length) {
      const entry = this.#order[this.#orderHead++]!;
      if (entry.state !== "queued") continue;
      // The oldest waiting entry is the head of its room's queue: everything older of that room is gone already.
      entry.state = "dropped";
      entry.lane.queue.shift();
      this.#queued--;
      this.#o.metrics?.events.dropped.inc();
      this.#compact();
      this.#droppedUnlogged++;
      if (!this.#dropLogScheduled) {
        this.#dropLogScheduled = true;
        void this.#sleep(1000).then(() => {
          this.#dropLogScheduled = false;
          this.#logger.warn({ dropped: this.#droppedUnlogged, queueSize: this.#o.maxQueued }, "room events dropped: the events queue is full (muc_events_queue_size)");
          this.#droppedUnlogged = 0;
        });
      }
      return;
    }
  }

  #compact(): void {
    if (this.#orderHead > 1024 && this.#orderHead * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#orderHead);
      this.#orderHead = 0;
    }
  }

  #pump(): void {
    while (!this.#closed && this.#active < this.#concurrency && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      lane.ready = false;
      const entry = lane.queue.shift();
      if (!entry) {
        if (lane.queue.length === 0 && !lane.busy) this.#lanes.delete(lane.room);
        continue;
      }
      entry.state = "taken";
      this.#queued--;
      lane.busy = true;
      this.#active++;
      void this.#deliver(entry).then(() => this.#done(lane));
    }
    if (this.#queued === 0 && this.#active === 0) {
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    }
  }

  #done(lane: Lane): void {
    this.#active--;
    lane.busy = false;
    if (lane.queue.length > 0) {
      lane.ready = true;
      this.#ready.push(lane);
    } else {
      this.#lanes.delete(lane.room);
    }
    this.#pump();
  }

  /** Deliver one event until it is taken or refused for good; never rejects. */
  async #deliver(entry: Entry): Promise<void> {
    const body = JSON.stringify(entry.event);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "mucgate",
      "x-mucgate-event": entry.event.type,
      "x-mucgate-delivery": entry.event.id,
    };
    if (this.#o.secret) headers[SIGNATURE_HEADER] = signature(this.#o.secret, body);
    const backoff = new Backoff({ base: this.#o.backoff?.base ?? 500, max: this.#o.backoff?.max ?? 30_000, random: this.#o.backoff?.random });
    const metrics = this.#o.metrics;
    for (let attempt = 1; !this.#closed; attempt++) {
      let status: number | undefined;
      let failure: string | undefined;
      try {
        const res = await this.#fetch(this.#o.url, {
          method: "POST",
          headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(Math.ceil(this.#o.timeout * 1000)),
        });
        status = res.status;
        await res.body?.cancel().catch(() => {});
      } catch (err) {
        failure = (err as { name?: string }).name === "TimeoutError" ? `timeout after ${this.#o.timeout}s` : String((err as Error)?.message ?? err);
      }
      if (status !== undefined && status >= 200 && status <= 299) {
        metrics?.events.delivered.inc();
        return;
      }
      if (status !== undefined && !retryable(status)) {
        metrics?.events.rejected.inc();
        this.#logger.warn({ id: entry.event.id, type: entry.event.type, room: entry.event.room, status }, "room event refused by the events receiver: not retried");
        return;
      }
      metrics?.events.retried.inc();
      const delay = backoff.next();
      this.#logger.debug({ id: entry.event.id, attempt, status, error: failure, retryInMs: delay }, "room event delivery failed; retrying");
      await this.#sleep(delay);
    }
  }
}
