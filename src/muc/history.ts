import type { Element } from "@xmpp/xml";

/** One reflected groupchat message, kept for XEP-0045 §7.2.15 history. */
export interface HistoryEntry {
  /** The message as broadcast, without `to`. */
  readonly message: Element;
  /** When the room received it, ms since the epoch. */
  readonly stamp: number;
  /** Characters of the complete XML stanza, for `maxchars`. */
  readonly chars: number;
  /** Its UTF-8 bytes, for the service's `max_history_bytes`. */
  readonly bytes: number;
}

/** The `<history/>` limits of a join (XEP-0045 §7.2.15); absent = no limit. */
export interface HistoryRequest {
  maxstanzas?: number;
  maxchars?: number;
  seconds?: number;
  /** ms since the epoch */
  since?: number;
  /** Bytes of the messages together (the service's bound, not the client's); absent or 0 = no limit. */
  maxbytes?: number;
}

/**
 * The last `size` messages of a room, and of those no more than `maxBytes`
 * together (0: no byte bound): the newest kept, whole messages only, so what
 * is held is always an unbroken run up to the newest message — a message
 * larger than the bound on its own empties it. Small (20 by default, at most
 * `max_history_messages`), so a plain array with shift() beats a ring buffer
 * in clarity and costs nothing measurable.
 */
export class History {
  readonly #entries: HistoryEntry[] = [];
  #bytes = 0;

  constructor(
    readonly size: number,
    readonly maxBytes = 0,
  ) {}

  get length(): number {
    return this.#entries.length;
  }

  /** UTF-8 bytes of the messages held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Drop the entries `matches` picks (a retracted message, XEP-0424). */
  drop(matches: (entry: HistoryEntry) => boolean): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (!matches(this.#entries[i]!)) continue;
      this.#bytes -= this.#entries[i]!.bytes;
      this.#entries.splice(i, 1);
    }
  }

  push(entry: HistoryEntry): void {
    if (this.size === 0) return;
    this.#entries.push(entry);
    this.#bytes += entry.bytes;
    while (this.#entries.length > this.size || (this.maxBytes > 0 && this.#bytes > this.maxBytes)) {
      this.#bytes -= this.#entries.shift()!.bytes;
    }
  }

  /**
   * The newest messages that satisfy every limit, oldest first. XEP-0045
   * §7.2.15: "the room MUST send ... the smallest number of messages that
   * satisfies all the conditions" — so walk back from the newest and stop at
   * the first limit reached.
   */
  select(request: HistoryRequest, now: number): HistoryEntry[] {
    const { maxstanzas = Infinity, maxchars = Infinity, seconds, since } = request;
    const maxbytes = request.maxbytes || Infinity;
    const oldest = Math.max(seconds === undefined ? -Infinity : now - seconds * 1000, since ?? -Infinity);
    let chars = 0;
    let bytes = 0;
    let start = this.#entries.length;
    while (start > 0 && this.#entries.length - start < maxstanzas) {
      const entry = this.#entries[start - 1]!;
      if (entry.stamp < oldest) break;
      if (chars + entry.chars > maxchars) break;
      if (bytes + entry.bytes > maxbytes) break;
      chars += entry.chars;
      bytes += entry.bytes;
      start--;
    }
    return this.#entries.slice(start);
  }
}

/** Read `<history/>` attributes; malformed values are ignored (no limit). */
export function parseHistoryRequest(history: Element | undefined): HistoryRequest {
  const request: HistoryRequest = {};
  if (!history) return request;
  const count = (name: string): number | undefined => {
    const raw = history.attrs[name];
    if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
    return Number(raw);
  };
  const maxstanzas = count("maxstanzas");
  if (maxstanzas !== undefined) request.maxstanzas = maxstanzas;
  const maxchars = count("maxchars");
  if (maxchars !== undefined) request.maxchars = maxchars;
  const seconds = count("seconds");
  if (seconds !== undefined) request.seconds = seconds;
  const since = history.attrs.since === undefined ? NaN : Date.parse(history.attrs.since);
  if (!Number.isNaN(since)) request.since = since;
  return request;
}
