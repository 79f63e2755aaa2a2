import type { Element, Node } from "@xmpp/xml";
import { StanzaError } from "../errors.ts";
import { NS } from "../muc/namespaces.ts";
import { serialize } from "./serialize.ts";

/** What one incoming stanza may carry (README "Limits"); lengths in characters (UTF-16 code units), sizes in bytes. */
export interface StanzaLimitsOptions {
  /** `component_stanza_size_limit`: the largest stanza the XMPP server accepts from the component. */
  readonly stanzaBytes: number;
  /** `muc_max_char_count`: a message `<body>`. */
  readonly body: number;
  readonly subject: number;
  /** A presence `<status>`. */
  readonly status: number;
  /** A stanza's `id` attribute. */
  readonly id: number;
  /** `max_room_name`, `max_room_desc`: submitted in the §10.2 configuration form. */
  readonly roomName: number;
  readonly roomDescription: number;
}

/**
 * Room additions to a relayed stanza, at most: the occupant JID as `from`
 * and a real JID as `to` (3 × 1023 bytes each, RFC 7622 §3), a muc#user item
 * with a real JID and status codes, an occupant id, a stanza id, a delay.
 * A stanza within `stanzaBytes` less this leaves the room within `stanzaBytes`.
 */
export const ROOM_ADDITIONS = 16 * 1024;

/**
 * The refusal at input of what would make mucgate write a stanza larger than
 * the server reads (Prosody closes the component stream on one, and every
 * room loses its link: issue 13): stanzas whose size plus the room's
 * additions is over the limit, and bodies, subjects, statuses, ids, room
 * names and descriptions over their caps. The refusal is `modify/policy-
 * violation` (RFC 6120 §8.3.3.12), to the sender only.
 */
export class StanzaLimits {
  readonly #o: StanzaLimitsOptions;
  readonly #budget: number;

  constructor(options: StanzaLimitsOptions) {
    for (const [key, value] of Object.entries(options)) {
      if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${key}: expected an integer >= 1, got ${String(value)}`);
    }
    if (options.stanzaBytes <= ROOM_ADDITIONS) throw new TypeError(`stanzaBytes: must exceed ${ROOM_ADDITIONS}`);
    this.#o = options;
    this.#budget = options.stanzaBytes - ROOM_ADDITIONS;
  }

  /** Why `stanza` is refused, or undefined when it may go on. */
  check(stanza: Element): StanzaError | undefined {
    const o = this.#o;
    const id = stanza.attrs.id;
    if (typeof id === "string" && id.length > o.id) return tooLong("id", o.id);
    // bytes ≤ 6 × code units (`&quot;` for one `"`): only a stanza that could be too large is serialised.
    if (codeUnits(stanza) * 6 > this.#budget && Buffer.byteLength(serialize(stanza)) > this.#budget) {
      return new StanzaError("modify", "policy-violation", `Stanza too large: at most ${this.#budget} bytes`);
    }
    for (const child of stanza.children) {
      if (typeof child !== "object" || child === null) continue;
      const ns = child.attrs.xmlns;
      if (stanza.name === "message" && (ns === undefined || ns === "jabber:client")) {
        if (child.name === "body" && child.getText().length > o.body) return tooLong("body", o.body);
        if (child.name === "subject" && child.getText().length > o.subject) return tooLong("subject", o.subject);
      } else if (stanza.name === "presence" && child.name === "status" && (ns === undefined || ns === "jabber:client")) {
        if (child.getText().length > o.status) return tooLong("status", o.status);
      } else if (stanza.name === "iq" && child.name === "query" && ns === NS.MUC_OWNER) {
        return this.#checkForm(child);
      }
    }
    return undefined;
  }

  /** §10.2 muc#roomconfig_roomname and _roomdesc of a submitted form. */
  #checkForm(query: Element): StanzaError | undefined {
    const form = query.getChild("x", NS.DATA);
    if (!form) return undefined;
    for (const field of form.getChildren("field")) {
      const name = field.attrs.var;
      const cap = name === "muc#roomconfig_roomname" ? this.#o.roomName : name === "muc#roomconfig_roomdesc" ? this.#o.roomDescription : undefined;
      if (cap === undefined) continue;
      const length = field.getChildren("value").reduce((sum, value) => sum + value.getText().length, 0);
      if (length > cap) return tooLong(name === "muc#roomconfig_roomname" ? "room name" : "room description", cap);
    }
    return undefined;
  }
}

function tooLong(what: string, cap: number): StanzaError {
  return new StanzaError("modify", "policy-violation", `The ${what} is too long: at most ${cap} characters`);
}

/** Characters of names, attributes and text in the tree, plus a few per element for its markup. */
function codeUnits(el: Element): number {
  let n = el.name.length * 2 + 5;
  const attrs = el.attrs;
  for (const key in attrs) {
    const value = attrs[key];
    n += key.length + 4 + (typeof value === "string" ? value.length : String(value).length);
  }
  for (const child of el.children as Node[]) {
    if (typeof child === "string") n += child.length;
    else if (child !== null && typeof child === "object") n += codeUnits(child);
  }
  return n;
}
