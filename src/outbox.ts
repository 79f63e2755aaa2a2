import type { Element } from "@xmpp/xml";
import type { Logger } from "./log.ts";
import type { MaybePromise } from "./muc/storage.ts";

export interface OutboxOptions {
  /** Make everything recorded so far durable (the storage's commit). */
  readonly commit: () => MaybePromise<void>;
  /** Hand stanzas to the component link. */
  readonly send: (stanzas: Element[]) => void;
  readonly logger: Logger;
}

/**
 * Between the service and the component link: nothing the service produced
 * leaves the process before the storage commit that holds what it recorded,
 * so nobody ever receives a message a crash right after could lose from the
 * archive (docs/storage.md "Durability").
 *
 * Everything sent during one turn of the event loop waits for one commit at
 * its end (a microtask), then goes to the link together — which writes it in
 * one socket write anyway. A synchronous commit (SQLite) keeps that within
 * the turn; an asynchronous one (PostgreSQL) holds the batch, and every batch
 * after it, until it is done: order is never changed. When a commit fails
 * the error is logged and the stanzas still go: the service keeps serving
 * while storage is broken (`failing` says whether the last commit failed).
 */
export class Outbox {
  readonly #o: OutboxOptions;
  #turn: Element[][] = [];
  #scheduled = false;
  /** The commit in flight and what waits for it, oldest first. */
  #chain: Promise<void> | undefined;
  #failing = false;
  /** Stanzas accepted and not yet handed to the link. */
  #pending = 0;
  #failures = 0;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /** Stanzas accepted and not yet handed to the link (waiting for the end of the turn, or a commit). */
  get pending(): number {
    return this.#pending;
  }

  /** Commits that failed, ever. */
  get failures(): number {
    return this.#failures;
  }

  /** Whether the last commit failed. */
  get failing(): boolean {
    return this.#failing;
  }

  send(stanzas: Element[]): void {
    if (stanzas.length === 0) return;
    this.#turn.push(stanzas);
    this.#pending += stanzas.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#endOfTurn);
    }
  }

  /** Commit and send what is waiting now; resolves once it has gone to the link. */
  async flush(): Promise<void> {
    if (this.#scheduled) this.#endOfTurn();
    while (this.#chain) await this.#chain;
  }

  readonly #endOfTurn = (): void => {
    // flush() may have ended this turn already; its microtask then finds nothing to do.
    if (!this.#scheduled) return;
    this.#scheduled = false;
    const batch = this.#turn.flat();
    this.#turn = [];
    if (this.#chain) {
      // A commit is in flight: this batch's writes need the next one, after it.
      const previous = this.#chain;
      this.#track(previous.then(() => this.#commitThenSend(batch)));
      return;
    }
    const done = this.#commitThenSend(batch);
    if (done) this.#track(done);
  };

  #track(done: Promise<void>): void {
    const chain = done.finally(() => {
      if (this.#chain === chain) this.#chain = undefined;
    });
    this.#chain = chain;
  }

  #commitThenSend(batch: Element[]): Promise<void> | undefined {
    let committed: MaybePromise<void>;
    try {
      committed = this.#o.commit();
    } catch (err) {
      this.#failed(err);
      this.#handOver(batch);
      return undefined;
    }
    if (!(committed instanceof Promise)) {
      this.#failing = false;
      this.#handOver(batch);
      return undefined;
    }
    return committed.then(
      () => {
        this.#failing = false;
        this.#handOver(batch);
      },
      (err: unknown) => {
        this.#failed(err);
        this.#handOver(batch);
      },
    );
  }

  #handOver(batch: Element[]): void {
    this.#pending -= batch.length;
    this.#o.send(batch);
  }

  #failed(err: unknown): void {
    this.#failing = true;
    this.#failures++;
    this.#o.logger.error({ err }, "storage commit failed; sending anyway");
  }
}
