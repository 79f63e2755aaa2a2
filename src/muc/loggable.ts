import type { Element, Node } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import { element } from "./stanza.ts";

/** Form fields whose values are secrets (§10.2 room password). */
const SECRET_FIELDS = new Set(["muc#roomconfig_roomsecret"]);

const REDACTED = "[redacted]";

/** A copy of `el` with every secret's text replaced; the stanza itself is left alone. */
function censor(el: Element, inSecretField = false): Element {
  // §7.2.6 a join's password; §10.2 the room secret in a submitted or offered form.
  if (el.name === "password" && el.getNS() === NS.MUC) return element(el.name, el.attrs, [REDACTED]);
  if (inSecretField && el.name === "value") return element(el.name, el.attrs, [REDACTED]);
  const secret = el.name === "field" && SECRET_FIELDS.has(el.attrs.var ?? "");
  const children: Node[] = el.children.map((c) => (typeof c === "string" ? c : censor(c, secret)));
  return element(el.name, el.attrs, children);
}

/** A stanza as a log line may show it: room passwords replaced by `[redacted]`. */
export function loggable(stanza: Element): string {
  return censor(stanza).toString();
}
