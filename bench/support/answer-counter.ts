/**
 * Finds self-presences (`<status code="110"/>`) in a component's raw output
 * without parsing it, across chunk boundaries: for each one, which bench user
 * it is for (`to="u<index>@…"`) and whether it is a leave (`type="unavailable"`).
 * Anything of `type="error"` is reported as a failure: the benchmarks only
 * send joins and leaves that must succeed.
 *
 * Attribute values may be quoted either way (mucgate and the echo component
 * differ), so every search is done for both quote characters.
 */
function indexOfEither(buf: string, a: string, b: string, from = 0): number {
  const i = buf.indexOf(a, from);
  const j = buf.indexOf(b, from);
  return i === -1 ? j : j === -1 ? i : Math.min(i, j);
}
export class AnswerCounter {
  #carry = "";

  constructor(
    readonly onSelf: (user: number, unavailable: boolean) => void,
    readonly onChunk: () => void,
    readonly onError: (stanza: string) => void,
  ) {}

  feed(chunk: string): void {
    const buf = this.#carry + chunk;
    // Only complete top-level stanzas are looked at; the tail waits for the next chunk.
    const p = buf.lastIndexOf("</presence>");
    const m = buf.lastIndexOf("</message>");
    const cut = Math.max(p === -1 ? 0 : p + 11, m === -1 ? 0 : m + 10);
    const error = indexOfEither(buf, 'type="error"', "type='error'");
    if (error !== -1 && error < cut) {
      const start = buf.lastIndexOf("<", error);
      this.onError(buf.slice(start, start + 600));
    }
    for (let k = indexOfEither(buf, 'code="110"', "code='110'"); k !== -1 && k < cut; k = indexOfEither(buf, 'code="110"', "code='110'", k + 10)) {
      const start = buf.lastIndexOf("<presence", k);
      // Searches stay inside the start tag: a miss must not scan the rest of the buffer.
      const tag = start === -1 ? "" : buf.slice(start, buf.indexOf(">", start));
      const to = indexOfEither(tag, ' to="u', " to='u");
      if (to === -1) {
        this.onError(buf.slice(Math.max(0, start), k + 20));
        continue;
      }
      let user = 0;
      for (let i = to + 6; ; i++) {
        const c = tag.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        user = user * 10 + c;
      }
      this.onSelf(user, tag.includes(' type="unavailable"') || tag.includes(" type='unavailable'"));
    }
    this.#carry = buf.slice(cut);
    this.onChunk();
  }
}
