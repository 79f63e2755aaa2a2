import { xml, type Element } from "@xmpp/xml";

/**
 * Builders for the MUC stanzas most end-to-end tests send, and two readers
 * for what they assert on. Kept small: anything unusual is clearer written
 * out with `xml()` in the test itself.
 */

export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

export interface HistoryRequest {
  maxchars?: number;
  maxstanzas?: number;
  seconds?: number;
  /** XEP-0082 timestamp. */
  since?: string;
}

/** XEP-0045 §7.2 join: presence to `room@service/nick` with the MUC `<x/>`. */
export function joinPresence(occupantJid: string, options: { history?: HistoryRequest; password?: string } = {}): Element {
  const x = xml("x", { xmlns: NS_MUC });
  if (options.history) {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.history)) if (v !== undefined) attrs[k] = String(v);
    x.append(xml("history", attrs));
  }
  if (options.password !== undefined) x.append(xml("password", {}, options.password));
  return xml("presence", { to: occupantJid }, x);
}

/** XEP-0045 §7.14 leave: unavailable presence to the occupant JID. */
export function leavePresence(occupantJid: string, status?: string): Element {
  return xml("presence", { to: occupantJid, type: "unavailable" }, status === undefined ? null : xml("status", {}, status));
}

/** XEP-0045 §7.4 message to all occupants. */
export function groupchat(roomJid: string, body: string, id?: string): Element {
  return xml("message", { to: roomJid, type: "groupchat", ...(id ? { id } : {}) }, xml("body", {}, body));
}

/** XEP-0045 §7.5 private message to one occupant. */
export function privateMessage(occupantJid: string, body: string, id?: string): Element {
  return xml(
    "message",
    { to: occupantJid, type: "chat", ...(id ? { id } : {}) },
    xml("body", {}, body),
    xml("x", { xmlns: NS_MUC_USER }),
  );
}

/** The `<status code>`s of a MUC presence or message (muc#user), as numbers. */
export function statusCodes(stanza: Element): number[] {
  const x = stanza.getChild("x", NS_MUC_USER);
  return x ? x.getChildren("status").map((s) => Number(s.attrs.code)) : [];
}

/** For `type='error'` stanzas: `{ type, condition, text }`; otherwise `undefined`. */
export function stanzaError(stanza: Element): { type: string; condition: string; text: string | undefined } | undefined {
  if (stanza.attrs.type !== "error") return undefined;
  const error = stanza.getChild("error");
  if (!error) return undefined;
  const condition = error.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.name !== "text");
  const text = error.getChild("text", NS_STANZAS)?.getText();
  return { type: error.attrs.type ?? "", condition: condition?.name ?? "", text };
}
