import type { Element } from "@xmpp/xml";

/** One reflected groupchat message, kept for XEP-0045 §7.2.15 history. */
export interface HistoryEntry {
  /** The message as broadcast, without `to`. */
  readonly message: Element;
  /** When the room received it, ms since the epoch. */
  readonly stamp: number;
  /** Characters of the complete XML stanza, for `maxchars`. */
  readonly chars: number;
}

/** The `<history/>` limits of a join (XEP-0045 §7.2.15); absent = no limit. */
export interface HistoryRequest {
  maxstanzas?: number;
  maxchars?: number;
  seconds?: number;
  /** ms since the epoch */
  since?: number;
}

/**
 * The last `size` messages of a room. Small (20 by default), so a plain array
 * with shift() beats a ring buffer in clarity and costs nothing measurable.
 */
export class History {
  readonly #entries: HistoryEntry[] = [];

  constructor(readonly size: number) {}

  get length(): number {
    return this.#entries.length;
  }

  /** Drop the entries `matches` picks (a retracted message, XEP-0424). */
  drop(matches: (entry: HistoryEntry) => boolean): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) if (matches(this.#entries[i]!)) this.#entries.splice(i, 1);
  }

  push(entry: HistoryEntry): void {
    if (this.size === 0) return;
    this.#entries.push(entry);
    if (this.#entries.length > this.size) this.#entries.shift();
  }

  /**
   * The newest messages that satisfy every limit, oldest first. XEP-0045
   * §7.2.15: "the room MUST send ... the smallest number of messages that
   * satisfies all the conditions" — so walk back from the newest and stop at
   * the first limit reached.
   */
  select(request: HistoryRequest, now: number): HistoryEntry[] {
    const { maxstanzas = Infinity, maxchars = Infinity, seconds, since } = request;
    const oldest = Math.max(seconds === undefined ? -Infinity : now - seconds * 1000, since ?? -Infinity);
    let chars = 0;
    let start = this.#entries.length;
    while (start > 0 && this.#entries.length - start < maxstanzas) {
      const entry = this.#entries[start - 1]!;
      if (entry.stamp < oldest) break;
      if (chars + entry.chars > maxchars) break;
      chars += entry.chars;
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
