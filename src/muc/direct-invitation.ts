import type { Element } from "@xmpp/xml";
import { element } from "./stanza.ts";

/** XEP-0249 §2's namespace. */
export const NS_CONFERENCE = "jabber:x:conference";

/**
 * A XEP-0249 direct invitation from the room itself to a user's bare JID
 * (ejabberd's send_direct_invitation sends exactly this): `password` and
 * `reason` only when not empty.
 */
export function directInvitation(roomJid: string, to: string, how: { password?: string | undefined; reason?: string | undefined }): Element {
  const attrs: Record<string, string> = { xmlns: NS_CONFERENCE, jid: roomJid };
  if (how.password) attrs.password = how.password;
  if (how.reason) attrs.reason = how.reason;
  return element("message", { from: roomJid, to }, [element("x", attrs)]);
}
