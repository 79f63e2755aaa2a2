import type { Element } from "@xmpp/xml";
import { refuse } from "./stanza-error.ts";

/** A XEP-0059 request: how many, and after or before which item (`""` for the last page). */
export interface PageRequest {
  readonly max: number;
  readonly after: string | undefined;
  readonly before: string | undefined;
}

/**
 * The XEP-0059 `<set/>` of a request, `max` capped at `ceiling` (and
 * `ceiling` when it asks for no limit); refuses a `<max/>` that is not a
 * whole number and a page asked for in both directions (§2.5).
 */
export function readPage(set: Element | undefined, ceiling: number): PageRequest {
  const maxText = set?.getChildText("max");
  let max = ceiling;
  if (maxText !== undefined && maxText !== null) {
    if (!/^\d{1,9}$/.test(maxText.trim())) throw refuse.badRequest("<max/> must be a whole number");
    max = Math.min(Number(maxText.trim()), ceiling);
  }
  const after = set?.getChild("after");
  const before = set?.getChild("before");
  if (after && before) throw refuse.badRequest("Page with <after/> or <before/>, not both");
  return { max, after: after ? after.getText() : undefined, before: before ? before.getText() : undefined };
}
