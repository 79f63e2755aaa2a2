import type { Logger } from "./log.ts";
import type { Storage } from "./muc/storage.ts";

export interface ArchiveExpiryOptions {
  readonly storage: Pick<Storage, "expireArchive" | "commit">;
  /** Seconds a message is kept (`muc_log_expires_after`). */
  readonly keepSeconds: number;
  readonly logger: Logger;
  /** ms since the epoch. */
  readonly now?: () => number;
  /** ms between runs; by default a tenth of the retention, between a minute and an hour. */
  readonly everyMs?: number;
}

/**
 * `muc_log_expires_after`: archived messages older than the retention are
 * deleted in the background, at start and then regularly (the store deletes
 * in batches, so no run holds a lock for long). A failed run is logged and
 * tried again at the next.
 */
export class ArchiveExpiry {
  readonly #o: ArchiveExpiryOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ArchiveExpiryOptions) {
    if (!(options.keepSeconds > 0)) throw new TypeError("keepSeconds: must be > 0");
    this.#o = options;
  }

  start(): void {
    if (this.#timer) return;
    const every = this.#o.everyMs ?? Math.min(3_600_000, Math.max(60_000, (this.#o.keepSeconds * 1000) / 10));
    this.#timer = setInterval(() => void this.run(), every);
    this.#timer.unref?.();
    void this.run();
  }

  /** One run now (unless one is under way); resolves when it is done. Never rejects. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      const before = (this.#o.now ?? Date.now)() - this.#o.keepSeconds * 1000;
      try {
        const deleted = await this.#o.storage.expireArchive(before);
        await this.#o.storage.commit();
        if (deleted > 0) this.#o.logger.info({ deleted, before: new Date(before).toISOString() }, "expired archived messages");
      } catch (err) {
        this.#o.logger.error({ err }, "archive expiry failed; will try again");
      }
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
