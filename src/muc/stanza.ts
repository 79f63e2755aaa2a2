import { Element, type Node } from "@xmpp/xml";

/**
 * Stanza helpers shared by the MUC handlers.
 *
 * Broadcasts are the hot path: one groupchat message becomes one stanza per
 * occupant session, identical but for `to`. `addressed()` makes that copy
 * without copying the payload — the copies share the template's children,
 * which are never mutated after the template is built.
 */
export function addressed(template: Element, to: string): Element {
  const copy = new Element(template.name);
  copy.attrs = { ...template.attrs, to };
  copy.children = template.children;
  return copy;
}

/** A new element with the given attributes and children (children not re-parented). */
export function element(name: string, attrs: Record<string, string>, children: Node[] = []): Element {
  const el = new Element(name);
  el.attrs = attrs;
  el.children = children;
  return el;
}

/**
 * Child elements of `stanza` except those whose namespace is in `drop`. The
 * namespace is the element's resolved one (getNS), not its `xmlns` attribute:
 * `<o:occupant-id xmlns:o='urn:xmpp:occupant-id:0'/>` is the same element as
 * `<occupant-id xmlns='urn:xmpp:occupant-id:0'/>` and must be stripped too.
 */
export function payloadWithout(stanza: Element, drop: ReadonlySet<string>): Node[] {
  const kept: Node[] = [];
  for (const child of stanza.children) {
    if (typeof child === "string") continue; // whitespace between children
    if (drop.has(child.getNS() ?? "")) continue;
    kept.push(child);
  }
  return kept;
}

/** The only element child of an IQ (RFC 6120 §8.2.3: exactly one for get/set). */
export function soleChild(stanza: Element): Element | undefined {
  let found: Element | undefined;
  for (const child of stanza.children) {
    if (typeof child === "string") continue;
    if (found) return undefined;
    found = child;
  }
  return found;
}

/** XEP-0082 DateTime in UTC. */
export function xmppDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
