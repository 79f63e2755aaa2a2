import type { Element, Node } from "@xmpp/xml";
import { isAddressed } from "../muc/stanza.ts";

/**
 * Stanzas to XML text, for the component stream. ltx's `toString()` was the
 * largest cost of a join and of a fan-out (bench profiles: a regex replace
 * on every attribute, and a closure call per chunk). Two things make this
 * one fast:
 * - escaping is skipped for values that need none (almost all of them);
 * - a broadcast is one template copied per recipient with `addressed()`
 *   (src/muc/stanza.ts), which shares the template's `children` array; the
 *   serialised children are remembered per array, so each copy costs only
 *   its start tag. Children arrays are never changed once a stanza is built
 *   (the MUC core builds new elements instead), which is what makes the
 *   memo safe.
 */

const ATTR_SPECIAL = /[&<>"']/;
const TEXT_SPECIAL = /[&<>]/;
const ATTR_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

function escapeAttr(value: string): string {
  return ATTR_SPECIAL.test(value) ? value.replace(/[&<>"']/g, (c) => ATTR_ESCAPES[c]!) : value;
}

function escapeText(value: string): string {
  return TEXT_SPECIAL.test(value) ? value.replace(/[&<>]/g, (c) => ATTR_ESCAPES[c]!) : value;
}

const childrenXml = new WeakMap<Node[], string>();
/** A template's start tag without `to` and without the closing `>`. */
const openTags = new WeakMap<Element, string>();

function serializeChildren(children: Node[]): string {
  let xml = "";
  for (const child of children) {
    if (typeof child === "string") xml += escapeText(child);
    else if (child !== null && typeof child === "object") xml += serialize(child);
    else if (child !== undefined && child !== null) xml += escapeText(String(child));
  }
  return xml;
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

export function serialize(el: Element): string {
  let xml: string;
  if (isAddressed(el)) {
    let open = openTags.get(el.template);
    if (open === undefined) {
      open = openTag(el.template, true);
      openTags.set(el.template, open);
    }
    xml = open + " to='" + escapeAttr(el.to) + "'";
  } else {
    xml = openTag(el, false);
  }
  const children = el.children;
  if (children.length === 0) return xml + "/>";
  let inner = childrenXml.get(children);
  if (inner === undefined) {
    inner = serializeChildren(children);
    childrenXml.set(children, inner);
  }
  return xml + ">" + inner + "</" + el.name + ">";
}
