import type { Element, Node } from "@xmpp/xml";
import { isAddressed, isFrozen } from "../muc/stanza.ts";
import type { ByteSink } from "./byte-sink.ts";

/**
 * Stanzas to XML, for the component stream. ltx's `toString()` was the
 * largest cost of a join and of a fan-out (bench profiles: a regex replace
 * on every attribute, and a closure call per chunk). This one
 * - skips escaping for values that need none (almost all of them);
 * - writes a broadcast — one template copied per recipient by `addressed()`
 *   (src/muc/stanza.ts), sharing the template's `children` — as the
 *   template's start tag and the rest, serialised once and remembered, plus
 *   the copy's own `to`. Templates are never changed once built (the MUC
 *   core builds new elements instead), which is what makes the memo safe.
 */

const ATTR_SPECIAL = /[&<>"']/;
const TEXT_SPECIAL = /[&<>]/;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

function escapeAttr(value: string): string {
  return ATTR_SPECIAL.test(value) ? value.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : value;
}

function escapeText(value: string): string {
  return TEXT_SPECIAL.test(value) ? value.replace(/[&<>]/g, (c) => ESCAPES[c]!) : value;
}

function openTag(el: Element, skipTo: boolean): string {
  let xml = "<" + el.name;
  const attrs = el.attrs;
  for (const name in attrs) {
    const value = attrs[name];
    if (value === undefined || value === null || (skipTo && name === "to")) continue;
    xml += " " + name + "='" + escapeAttr(String(value)) + "'";
  }
  return xml;
}

/** XML of elements marked `frozen()`: shared by many stanzas, written once. */
const frozenXml = new WeakMap<Element, string>();

function childrenXml(children: Node[]): string {
  let xml = "";
  for (const child of children) {
    if (typeof child === "string") xml += escapeText(child);
    else if (child !== null && typeof child === "object") xml += isFrozen(child) ? frozenXmlOf(child) : serialize(child);
    else if (child !== undefined && child !== null) xml += escapeText(String(child));
  }
  return xml;
}

function frozenXmlOf(el: Element): string {
  let xml = frozenXml.get(el);
  if (xml === undefined) {
    xml = serialize(el);
    frozenXml.set(el, xml);
  }
  return xml;
}

/** What follows the start tag's attributes: `>children</name>`, or `/>`. */
function rest(el: Element): string {
  return el.children.length === 0 ? "/>" : ">" + childrenXml(el.children) + "</" + el.name + ">";
}

/** XML text of one element (tests, logs, history sizes). */
export function serialize(el: Element): string {
  const open = isAddressed(el) ? openTag(el.template, true) + " to='" + escapeAttr(el.to) + "'" : openTag(el, false);
  return open + rest(el);
}

/** A template's start tag, without `to` and without the `>`. */
const openTags = new WeakMap<Element, string>();
/** A template's `rest()`, by its children array. */
const rests = new WeakMap<Node[], string>();

/** Append one stanza to `sink`; the shared parts of addressed copies are serialised once. */
export function serializeInto(el: Element, sink: ByteSink): void {
  if (!isAddressed(el)) {
    sink.text(serialize(el));
    return;
  }
  const template = el.template;
  let open = openTags.get(template);
  if (open === undefined) {
    open = openTag(template, true);
    openTags.set(template, open);
  }
  let tail = rests.get(template.children);
  if (tail === undefined) {
    tail = rest(template);
    rests.set(template.children, tail);
  }
  sink.text(open);
  sink.text(" to='" + escapeAttr(el.to) + "'");
  sink.text(tail);
}

