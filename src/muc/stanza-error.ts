import { Element } from "@xmpp/xml";
import { StanzaError } from "../errors.ts";
import { NS } from "./namespaces.ts";

/**
 * The one place a `StanzaError` becomes XML (RFC 6120 §8.3): an error reply
 * addressed back to the sender, from the entity that refused it.
 *
 * Presence errors keep the request's `<x xmlns='…muc'/>` (XEP-0045 §7.2.8
 * examples) so clients can tell a failed join from other presence errors.
 */
export function errorReply(stanza: Element, error: StanzaError, from: string): Element {
  const attrs: Record<string, string> = { type: "error", from };
  const to = stanza.attrs.from;
  if (to) attrs.to = to;
  const id = stanza.attrs.id;
  if (id) attrs.id = id;
  const reply = new Element(stanza.name, attrs);
  if (stanza.name === "presence") {
    const x = stanza.getChild("x", NS.MUC);
    if (x) reply.cnode(new Element("x", { xmlns: NS.MUC }));
  }
  const err = reply.cnode(new Element("error", { type: error.type, by: from }));
  err.cnode(new Element(error.condition, { xmlns: NS.STANZAS }));
  if (error.text) err.cnode(new Element("text", { xmlns: NS.STANZAS })).t(error.text);
  return reply;
}

/** Shorthand constructors for the refusals XEP-0045 prescribes. */
export const refuse = {
  badRequest: (text?: string) => new StanzaError("modify", "bad-request", text),
  jidMalformed: (text?: string) => new StanzaError("modify", "jid-malformed", text),
  conflict: (text?: string) => new StanzaError("cancel", "conflict", text),
  notAcceptable: (text?: string) => new StanzaError("cancel", "not-acceptable", text),
  /** A non-occupant asked for something only occupants may do (XEP-0045 §7.4, XEP-0410 §3.2). */
  notInRoom: () => new StanzaError("cancel", "not-acceptable", "You are not currently connected to this chat"),
  notAllowed: (text?: string) => new StanzaError("cancel", "not-allowed", text),
  notAuthorized: (text?: string) => new StanzaError("auth", "not-authorized", text),
  forbidden: (text?: string) => new StanzaError("auth", "forbidden", text),
  itemNotFound: (text?: string) => new StanzaError("cancel", "item-not-found", text),
  serviceUnavailable: (text?: string) => new StanzaError("cancel", "service-unavailable", text),
  featureNotImplemented: (text?: string) => new StanzaError("cancel", "feature-not-implemented", text),
  /** A limit of the service reached (RFC 6120 §8.3.3.18); ejabberd's answer to a user in too many rooms. */
  resourceConstraint: (text?: string) => new StanzaError("wait", "resource-constraint", text),
  /** §7.2.5: a members-only room and a user who is not a member. */
  registrationRequired: (text?: string) => new StanzaError("auth", "registration-required", text),
};
