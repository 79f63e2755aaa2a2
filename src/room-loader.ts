import { LRUCache } from "lru-cache";
import type { Logger } from "./log.ts";
import type { MucService } from "./muc/service.ts";
import type { ArchivedMessage, MaybePromise, StoredRoom } from "./muc/storage.ts";

/** Where stored rooms come from: the storage port's reads of one room and its latest messages. */
export interface RoomSource {
  loadRoom(jid: string): MaybePromise<StoredRoom | undefined>;
  /** The archive's newest messages, for the room's §7.2.15 history; absent: no history is restored. */
  recentMessages?(jid: string, limit: number): MaybePromise<readonly ArchivedMessage[]>;
}

interface Loaded {
  readonly stored: StoredRoom;
  readonly history: readonly ArchivedMessage[];
}

/** `then` for values that may or may not be promises, keeping synchronous ones synchronous. */
function then<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

export interface RoomLoaderOptions {
  readonly service: MucService;
  /** Absent: no storage, every room lives only in memory. */
  readonly source?: RoomSource | undefined;
  readonly logger: Logger;
  /** Rooms remembered as not stored, so a stream of stanzas to one of them asks storage once. */
  readonly absentCacheSize?: number;
}

/**
 * Rooms are loaded on first use: before a stanza reaches a room that is not
 * in memory, the room is read from storage and restored into the service
 * (docs/architecture.md "Direction of data"). `prepare` answers at once when
 * there is nothing to wait for — the room is in memory, storage answered
 * synchronously (SQLite), or it is known not to be stored — and with a
 * promise otherwise, which the router holds the stanza behind. Concurrent
 * loads of one room share one read.
 */
export class RoomLoader {
  readonly #o: RoomLoaderOptions;
  readonly #loading = new Map<string, Promise<boolean>>();
  /** Rooms storage said it does not have; forgotten when the service creates one. */
  readonly #absent: LRUCache<string, true>;

  constructor(options: RoomLoaderOptions) {
    this.#o = options;
    this.#absent = new LRUCache({ max: options.absentCacheSize ?? 10_000 });
    options.service.subscribe((room, change) => {
      if (change.kind === "created") this.#absent.delete(room.jid);
    });
  }

  /**
   * `true`: the room is ready (in memory, or not stored: the service treats
   * it as new). `false`: storage failed, so whether the room exists is
   * unknown and stanzas to it must be refused for now. A promise of either
   * when storage answers later. Never rejects.
   */
  prepare(jid: string): boolean | Promise<boolean> {
    const { service, source } = this.#o;
    if (!source || service.rooms.has(jid) || this.#absent.has(jid)) return true;
    const pending = this.#loading.get(jid);
    if (pending) return pending;
    let stored: MaybePromise<Loaded | undefined>;
    try {
      const limit = service.settings.maxHistoryLength;
      stored = then(source.loadRoom(jid), (room) => {
        if (!room) return undefined;
        if (!source.recentMessages || limit === 0) return { stored: room, history: [] };
        return then(source.recentMessages(jid, limit), (history) => ({ stored: room, history }));
      });
    } catch (err) {
      return this.#failed(jid, err);
    }
    if (!(stored instanceof Promise)) return this.#install(jid, stored);
    const loading = stored.then(
      (found) => this.#install(jid, found),
      (err: unknown) => this.#failed(jid, err),
    );
    this.#loading.set(jid, loading);
    void loading.finally(() => this.#loading.delete(jid));
    return loading;
  }

  #install(jid: string, loaded: Loaded | undefined): boolean {
    try {
      if (loaded === undefined) this.#absent.set(jid, true);
      else this.#o.service.restore(loaded.stored, loaded.history);
      return true;
    } catch (err) {
      return this.#failed(jid, err);
    }
  }

  #failed(jid: string, err: unknown): false {
    this.#o.logger.error({ err, room: jid }, "could not load room from storage");
    return false;
  }
}
