import { Element, type Node } from "@xmpp/xml";

/**
 * Stanza helpers shared by the MUC handlers.
 *
 * Broadcasts are the hot path: one groupchat message becomes one stanza per
 * occupant session, identical but for `to`. `addressed()` makes that copy
 * without copying the payload — the copies share the template's children,
 * and templates are never mutated once built — and remembers its template,
 * so the serialiser (src/xmpp/serialize.ts) writes the shared part once.
 *
 * A copy is an ltx Element in every respect (same prototype chain), but it
 * skips the Element constructor and builds its `attrs` object only if
 * something reads it: the serialiser never does, so a fan-out to 1,000
 * sessions allocates 1,000 small objects and nothing else.
 */
export interface AddressedElement extends Element {
  readonly template: Element;
  readonly to: string;
}

interface AddressedFields {
  name: string;
  parent: Element | null;
  children: Node[];
  template: Element;
  to: string;
  ownAttrs: Record<string, string> | undefined;
}

const addressedPrototype: object = Object.create(Element.prototype, {
  attrs: {
    get(this: AddressedFields) {
      return (this.ownAttrs ??= { ...this.template.attrs, to: this.to });
    },
    set(this: AddressedFields, value: Record<string, string>) {
      this.ownAttrs = value;
    },
  },
});

export function addressed(template: Element, to: string): AddressedElement {
  const base = isAddressed(template) ? template.template : template;
  const copy = Object.create(addressedPrototype) as AddressedFields;
  copy.name = base.name;
  copy.parent = null;
  copy.children = base.children;
  copy.template = base;
  copy.to = to;
  copy.ownAttrs = undefined;
  return copy as unknown as AddressedElement;
}

export function isAddressed(el: Element): el is AddressedElement {
  return Object.getPrototypeOf(el) === addressedPrototype;
}

const frozenElements = new WeakSet<Element>();

/**
 * Mark an element that will never change again and is shared by many
 * stanzas (an occupant's `<occupant-id/>`, a status code, a plain muc#user
 * item), so the serialiser may remember its XML instead of writing it again
 * for every stanza that contains it.
 */
export function frozen<T extends Element>(el: T): T {
  frozenElements.add(el);
  return el;
}

export function isFrozen(el: Element): boolean {
  return frozenElements.has(el);
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
    // Unprefixed and without xmlns, a child is in the stanza's own namespace,
    // which is never a MUC one: skip resolving it up the tree.
    const ns = child.name.includes(":") ? child.getNS() : child.attrs.xmlns;
    if (ns !== undefined && drop.has(ns)) continue;
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
