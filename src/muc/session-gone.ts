import type { Element } from "@xmpp/xml";
import { NS } from "./namespaces.ts";

/** The defined condition (RFC 6120 §8.3.3) of an error stanza; undefined when it names none. */
function definedCondition(stanza: Element): string | undefined {
  const error = stanza.getChild("error");
  return error?.children.find((c): c is Element => typeof c !== "string" && c.attrs.xmlns === NS.STANZAS && c.name !== "text")?.name;
}

/**
 * Errors a user's server bounces that mean the session is gone; the room then
 * removes it (status 333) instead of relaying into the void forever. The same
 * list Prosody uses.
 */
export const BOUNCES_OF_GONE_SESSIONS: ReadonlySet<string> = new Set([
  "gone",
  "internal-server-error",
  "item-not-found",
  "jid-malformed",
  "recipient-unavailable",
  "redirect",
  "remote-server-not-found",
  "remote-server-timeout",
  "service-unavailable",
]);

/** Whether an error stanza from a session says it is gone: one of `gone`, or no defined condition at all. */
export function isSessionGone(stanza: Element, gone: ReadonlySet<string> = BOUNCES_OF_GONE_SESSIONS): boolean {
  const condition = definedCondition(stanza);
  return condition === undefined || gone.has(condition);
}
