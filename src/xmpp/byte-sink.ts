/**
 * A byte buffer that stanzas are serialised into and that is handed to the
 * socket in one piece per flush. Text is encoded straight into it, so the one
 * huge string that would otherwise have to be flattened before it could be
 * encoded is never built (flattening and encoding that string was a fifth of
 * a join's cost).
 *
 * Memory is bump-allocated: `take()` hands out the bytes written since the
 * last take as a view, and later writes go after them, never over them — the
 * socket may still be holding that view while the kernel drains. A new block
 * is allocated only when the current one is nearly full.
 */
export class ByteSink {
  #block: Buffer;
  /** `#block.byteLength`, kept in a field: the getter is a native call on every write. */
  #capacity: number;
  /** Where the bytes not yet taken start. */
  #start = 0;
  #end = 0;

  constructor(readonly blockSize = 256 * 1024) {
    this.#block = Buffer.allocUnsafe(blockSize);
    this.#capacity = blockSize;
  }

  /** Bytes written since the last `take()`. */
  get length(): number {
    return this.#end - this.#start;
  }

  text(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.#reserve(s.length * 3);
    // Buffer#write encodes in place: no view object per call, unlike encodeInto.
    this.#end += this.#block.write(s, this.#end, "utf8");
  }

  /** Forget what was written after the first `length` bytes not yet taken (a stanza that may not go out). */
  truncate(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.length) throw new TypeError(`truncate: expected 0..${this.length}, got ${length}`);
    this.#end = this.#start + length;
  }

  /** The bytes written since the last take; they are never written over, so the caller may keep them. */
  take(): Uint8Array {
    const out = this.#block.subarray(this.#start, this.#end);
    this.#start = this.#end;
    return out;
  }

  #reserve(extra: number): void {
    if (this.#end + extra <= this.#capacity) return;
    // Move what is not taken yet to a new block big enough for it and more.
    const pending = this.#block.subarray(this.#start, this.#end);
    const capacity = Math.max(this.blockSize, (pending.byteLength + extra) * 2);
    const block = Buffer.allocUnsafe(capacity);
    block.set(pending);
    this.#block = block;
    this.#capacity = capacity;
    this.#start = 0;
    this.#end = pending.byteLength;
  }
}
