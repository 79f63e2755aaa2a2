/**
 * A growable byte buffer that stanzas are serialised into, and that is handed
 * to the socket whole. Bytes that many stanzas share (a template's start tag,
 * its children) are encoded once and copied from then on, so a broadcast
 * costs memcpy, not UTF-8 encoding — and never builds one huge string that
 * must be flattened before it can be encoded (that flattening and encoding
 * was a fifth of a join's cost).
 */
export class ByteSink {
  #buffer: Uint8Array;
  #length = 0;
  readonly #encoder = new TextEncoder();

  constructor(readonly initialCapacity = 64 * 1024) {
    this.#buffer = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.#length;
  }

  bytes(chunk: Uint8Array): void {
    this.#reserve(chunk.byteLength);
    this.#buffer.set(chunk, this.#length);
    this.#length += chunk.byteLength;
  }

  text(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#reserve(s.length * 3);
    this.#length += this.#encoder.encodeInto(s, this.#buffer.subarray(this.#length)).written;
  }

  /**
   * Everything written so far; the sink starts over on fresh memory, so the
   * caller may keep the bytes (a socket queues what the kernel does not take).
   */
  take(): Uint8Array {
    const out = this.#buffer.subarray(0, this.#length);
    this.#buffer = new Uint8Array(Math.max(this.initialCapacity, this.#length));
    this.#length = 0;
    return out;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.byteLength) return;
    const grown = new Uint8Array(Math.max(needed, this.#buffer.byteLength * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}
