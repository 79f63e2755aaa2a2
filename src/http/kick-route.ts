import type { Element } from "@xmpp/xml";
import type { Handler } from "hono";
import { HttpError } from "../errors.ts";
import { parseJid, type Jid } from "../jid.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { MucService } from "../muc/service.ts";
import { jsonObject, readJsonBody, stringField } from "./body.ts";

/**
 * `POST /muc_kick` (docs/http-api.md), answering as mod_http_muc_kick
 * does where it has an answer: `{ nickname, muc, reason? }` kicks one
 * nickname (every session of it). Extension: `{ jid, muc, reason? }` kicks
 * every occupant whose real bare JID is `jid`, all nicks and sessions.
 */

/** The MUC command the kick route uses. */
export type KickableService = Pick<MucService, "domain" | "kickFrom">;

export interface KickDeps {
  service: KickableService;
  /** Sends stanzas over the component connection. */
  send: (stanzas: Element[]) => void;
  metrics: Metrics;
  logger?: Logger | undefined;
}

/** The seed's answer when nobody matches (Prosody's set_role error: type, condition). */
const NOT_IN_ROOM = "Couldn't kick user: modify: item-not-found";

// XML 1.0 §2.2 Char: anything else cannot travel in a stanza, and sending it
// would get the component's stream closed by the server.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A bare JID with a localpart (user@host, room@service), parsed; undefined otherwise. */
function bareWithLocal(text: string): Jid | undefined {
  const jid = parseJid(text);
  return jid && !jid.resource && jid.local ? jid : undefined;
}

/** The body, checked in the order mod_http_muc_kick (then mucgate) answers: the first failing check is the 400. */
export const KICK_BODY = jsonObject({
  nickname: stringField("nickname").optional(),
  jid: stringField("jid").optional(),
  muc: stringField("muc").optional(),
  reason: stringField("reason").optional(),
})
  .refine((b) => (b.nickname !== undefined || b.jid !== undefined) && b.muc !== undefined, "Missing nickname and/or MUC")
  .refine((b) => b.nickname === undefined || b.jid === undefined, "Give either nickname or jid, not both")
  .refine((b) => b.reason === undefined || !NOT_XML_CHAR.test(b.reason), "reason contains characters XML cannot carry")
  .refine((b) => b.jid === undefined || bareWithLocal(b.jid) !== undefined, "jid must be a bare user JID (user@host) without a resource")
  .refine((b) => b.muc === undefined || bareWithLocal(b.muc) !== undefined, "muc must be a room JID (room@service) without a resource");

export function kickRoute(deps: KickDeps): Handler {
  return async (c) => {
    const { nickname, jid, muc, reason } = await readJsonBody(c.req.raw, KICK_BODY);
    // KICK_BODY's checks passed: muc is a room JID, and exactly one of nickname and jid is given, a jid well-formed.
    const room = bareWithLocal(muc!)!;
    if (room.domain !== deps.service.domain) throw new HttpError(404, `MUC not found: No such host: ${room.domain}`);
    const account = jid === undefined ? undefined : bareWithLocal(jid)!.bare;
    const out: Element[] = [];
    const target = account === undefined ? { nick: nickname! } : { account };
    const outcome = deps.service.kickFrom(room.bare, target, reason || undefined, out);
    if ("refused" in outcome) {
      if (outcome.refused === "no-room") throw new HttpError(404, `MUC not found: No MUC '${room.local}' found for host: ${room.domain}`);
      throw new HttpError(400, NOT_IN_ROOM);
    }
    deps.send(out);
    const { kicked } = outcome;
    deps.metrics.kicks.http.inc(kicked.length);
    deps.logger?.info({ muc: room.bare, kicked, by: account === undefined ? "nickname" : "jid" }, "kicked over HTTP");
    return c.json({ kicked, muc: room.bare }, 200);
  };
}
