import type { Element } from "@xmpp/xml";
import type { Logger } from "./log.ts";

/** What the prober asks of the service: a probe for one session, if it is still an occupant's. */
export interface ProbeSource {
  /** Every session of every occupant, as (room, session) pairs. */
  sessions(): Iterable<readonly [room: string, session: string]>;
  /** The probe to send to `session` in `room`, or undefined when it left meanwhile. */
  probe(room: string, session: string): Element | undefined;
}

export interface SessionProberOptions {
  readonly source: ProbeSource;
  readonly send: (stanzas: Element[]) => void;
  /** Probes a second at most. */
  readonly rate: number;
  readonly logger: Logger;
  /** Timers, injectable for tests. */
  readonly setTimeout?: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout?: (handle: unknown) => void;
}

/**
 * Checks, once, that every occupant's session is still there: after a
 * restart that kept the occupants, and after the component link came back
 * (sessions may have died with the XMPP server meanwhile, and presence to an
 * offline resource is not bounced). Each check is a disco#info request from
 * the room (service.ts `probe`); an error that says the session is gone
 * removes it with status 333, an answer or silence keeps it. Probes go out
 * at `rate` a second, in slices every 100 ms, so that 100,000 sessions do
 * not flood the server.
 */
export class SessionProber {
  readonly #o: SessionProberOptions;
  #queue: (readonly [string, string])[] = [];
  #timer: unknown;
  #checked = 0;

  constructor(options: SessionProberOptions) {
    if (!(options.rate > 0)) throw new TypeError("rate: must be > 0");
    this.#o = options;
  }

  /** Sessions waiting to be checked. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Check every session the service has now; a check already under way starts over with the current set. */
  checkAll(): void {
    this.#queue = [...this.#o.source.sessions()];
    this.#o.logger.info({ sessions: this.#queue.length, perSecond: this.#o.rate }, "checking occupant sessions");
    this.#checked = 0;
    if (this.#timer === undefined) this.#tick();
  }

  stop(): void {
    if (this.#timer !== undefined) (this.#o.clearTimeout ?? clearTimeout)(this.#timer as ReturnType<typeof setTimeout>);
    this.#timer = undefined;
    this.#queue = [];
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const slice = Math.max(1, Math.round(this.#o.rate / 10));
    const out: Element[] = [];
    while (out.length < slice && this.#queue.length > 0) {
      const [room, session] = this.#queue.shift()!;
      const probe = this.#o.source.probe(room, session);
      if (probe) out.push(probe);
    }
    this.#checked += out.length;
    if (out.length > 0) this.#o.send(out);
    if (this.#queue.length === 0) {
      this.#o.logger.info({ probed: this.#checked }, "occupant sessions checked");
      return;
    }
    const timer = (this.#o.setTimeout ?? setTimeout)(this.#tick, 100);
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  };
}
