import type { Element } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import { MucService, type MucServiceOptions } from "../../src/muc/service.ts";

export const DOMAIN = "rooms.test";
export const MUC = "http://jabber.org/protocol/muc";
export const MUC_USER = "http://jabber.org/protocol/muc#user";

/** A MUC service in memory with a controllable clock: stanza strings in, stanzas out. */
export function fixture(options: Partial<MucServiceOptions> = {}) {
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const service = new MucService({ domain: DOMAIN, now: () => clock, secret: "test", ...options });
  const send = (stanza: string | Element, opts?: { asNonOccupant?: boolean }): Element[] => {
    const out: Element[] = [];
    service.handle(typeof stanza === "string" ? parse(stanza) : stanza, out, opts);
    return out;
  };
  return {
    service,
    send,
    advance(ms: number) {
      clock += ms;
    },
    /** Join `room` as `nick` from `from`; returns what was sent. */
    join(from: string, room: string, nick: string, extra = "") {
      return send(`<presence from='${from}' to='${room}@${DOMAIN}/${nick}'><x xmlns='${MUC}'>${extra}</x></presence>`);
    },
    leave(from: string, room: string, nick: string) {
      return send(`<presence type='unavailable' from='${from}' to='${room}@${DOMAIN}/${nick}'/>`);
    },
    say(from: string, room: string, body: string, id = "m1") {
      return send(`<message type='groupchat' id='${id}' from='${from}' to='${room}@${DOMAIN}'><body>${body}</body></message>`);
    },
  };
}

export function to(stanzas: Element[], jid: string): Element[] {
  return stanzas.filter((s) => s.attrs.to === jid);
}

export function statuses(stanza: Element): string[] {
  return (stanza.getChild("x", MUC_USER)?.getChildren("status") ?? []).map((s) => s.attrs.code!);
}

export function errorCondition(stanza: Element): string | undefined {
  const error = stanza.getChild("error");
  return error?.children.find((c): c is Element => typeof c !== "string" && c.name !== "text")?.name;
}
