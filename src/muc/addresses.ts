import type { Element } from "@xmpp/xml";
import { parseJid, type Jid } from "../jid.ts";

export interface Addresses {
  /** `undefined` when absent or malformed. */
  readonly from: Jid | undefined;
  readonly to: Jid | undefined;
}

const parsed = new WeakMap<Element, Addresses>();

/**
 * A stanza's `from` and `to`, parsed and normalised once: the router, the
 * gate's question and the MUC core all need them for the same stanza.
 */
export function addressesOf(stanza: Element): Addresses {
  let a = parsed.get(stanza);
  if (a === undefined) {
    const { from, to } = stanza.attrs;
    a = { from: from === undefined ? undefined : parseJid(from), to: to === undefined ? undefined : parseJid(to) };
    parsed.set(stanza, a);
  }
  return a;
}
