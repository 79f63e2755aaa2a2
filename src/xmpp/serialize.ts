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

/**
 * Minimal escaping (XML 1.0 §2.4, §3.1): the stream relays what clients
 * wrote, and a stanza the server accepted must not grow on its way back
 * (issue 13: `"` → `&quot;` grew a 100 kB id past Prosody's 512 KiB
 * component stanza limit and the server closed the link). Text escapes `&`,
 * `<`, and `>` only where it would close `]]>`; an attribute is quoted with
 * whichever quote it lacks and escapes a quote only when it holds both (then
 * the rarer one, as `&#39;` or `&#34;`, a byte shorter than `&apos;`). Whitespace is written as it is, as Prosody's own
 * serialiser does. Nothing is ever longer than any well-formed spelling of
 * the same value.
 */
const ATTR_SPECIAL = /[&<'"]/;
const TEXT_SPECIAL = /[&<>]/;

function escapeMarkup(value: string): string {
  return value.replace(/[&<]/g, (c) => (c === "&" ? "&amp;" : "&lt;"));
}

/** ` name='value'` with the quote that needs no escaping. */
function attribute(name: string, value: string): string {
  if (!ATTR_SPECIAL.test(value)) return " " + name + "='" + value + "'";
  const escaped = value.includes("&") || value.includes("<") ? escapeMarkup(value) : value;
  const apos = escaped.includes("'");
  const quot = escaped.includes('"');
  if (!apos) return " " + name + "='" + escaped + "'";
  if (!quot) return " " + name + '="' + escaped + '"';
  let aposCount = 0;
  let quotCount = 0;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c === 39) aposCount++;
    else if (c === 34) quotCount++;
  }
  return aposCount <= quotCount
    ? " " + name + "='" + escaped.replaceAll("'", "&#39;") + "'"
    : " " + name + '="' + escaped.replaceAll('"', "&#34;") + '"';
}

function escapeText(value: string): string {
  if (!TEXT_SPECIAL.test(value)) return value;
  const escaped = value.includes("&") || value.includes("<") ? escapeMarkup(value) : value;
  return escaped.includes("]]>") ? escaped.replaceAll("]]>", "]]&gt;") : escaped;
}

function openTag(el: Element, skipTo: boolean): string {
  let xml = "<" + el.name;
  const attrs = el.attrs;
  for (const name in attrs) {
    const value = attrs[name];
    if (value === undefined || value === null || (skipTo && name === "to")) continue;
    xml += attribute(name, String(value));
  }
  return xml;
}

/** XML of elements marked `frozen()`: shared by many stanzas, written once. */
const frozenXml = new WeakMap<Element, string>();

function childrenXml(children: Node[]): string {
  let xml = "";
  // Adjacent text nodes (a body split over two TCP reads) are escaped as one, so a `]]>` across them is seen.
  let text = "";
  for (const child of children) {
    if (child !== null && typeof child === "object") {
      if (text !== "") xml += escapeText(text);
      text = "";
      xml += isFrozen(child) ? frozenXmlOf(child) : serialize(child);
    } else if (child !== undefined && child !== null) text += typeof child === "string" ? child : String(child);
  }
  return text === "" ? xml : xml + escapeText(text);
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
  const open = isAddressed(el) ? openTag(el.template, true) + attribute("to", el.to) : openTag(el, false);
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
  sink.text(attribute("to", el.to));
  sink.text(tail);
}

