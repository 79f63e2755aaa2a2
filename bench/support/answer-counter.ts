/**
 * Finds self-presences (`<status code="110"/>`) in a component's raw output
 * without parsing it, across chunk boundaries: for each one, which bench user
 * it is for (`to="u<index>@…"`) and whether it is a leave (`type="unavailable"`).
 * Anything of `type="error"` is reported as a failure: the benchmarks only
 * send joins and leaves that must succeed.
 *
 * Attribute values may be quoted either way (mucgate and the echo component
 * differ); one regular expression pass per chunk finds both, so the cost stays
 * linear in the output however big the burst.
 */
const SELF = /code=["']110["']/g;
const ERROR = /type=["']error["']/;
const TO_USER = / to=["']u/;
const UNAVAILABLE = / type=["']unavailable["']/;

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
    const complete = buf.slice(0, cut);
    const error = ERROR.exec(complete);
    if (error) {
      const start = complete.lastIndexOf("<", error.index);
      this.onError(complete.slice(start, start + 600));
    }
    SELF.lastIndex = 0;
    for (let hit = SELF.exec(complete); hit; hit = SELF.exec(complete)) {
      const k = hit.index;
      const start = complete.lastIndexOf("<presence", k);
      // Searches stay inside the start tag: a miss must not scan the rest of the buffer.
      const tag = start === -1 ? "" : complete.slice(start, complete.indexOf(">", start));
      const to = TO_USER.exec(tag);
      if (!to) {
        this.onError(complete.slice(Math.max(0, start), k + 20));
        continue;
      }
      let user = 0;
      for (let i = to.index + 6; ; i++) {
        const c = tag.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        user = user * 10 + c;
      }
      this.onSelf(user, UNAVAILABLE.test(tag));
    }
    this.#carry = buf.slice(cut);
    this.onChunk();
  }
}
