import type { Element } from "@xmpp/xml";
import type { Handler } from "hono";
import { HttpError } from "../errors.ts";
import { parseJid } from "../jid.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { prepareNick } from "../muc/nick.ts";
import type { Occupant } from "../muc/occupant.ts";
import type { Room } from "../muc/room.ts";
import type { MucService } from "../muc/service.ts";
import { optionalString, readJsonObject } from "./body.ts";

/**
 * `POST /muc_kick` (DESIGN.md "HTTP API"), answering as mod_http_muc_kick
 * does where it has an answer: `{ nickname, muc, reason? }` kicks one
 * nickname (every session of it). Extension: `{ jid, muc, reason? }` kicks
 * every occupant whose real bare JID is `jid`, all nicks and sessions.
 */

/** The MUC operations the kick route uses. */
export type KickableService = Pick<MucService, "domain" | "room" | "kick">;

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

/** The room `muc` names, or the 400/404 that says why there is none. */
function findRoom(service: KickableService, muc: string): Room {
  const jid = parseJid(muc);
  if (!jid || jid.resource || !jid.local) {
    throw new HttpError(400, "muc must be a room JID (room@service) without a resource");
  }
  if (jid.domain !== service.domain) throw new HttpError(404, `MUC not found: No such host: ${jid.domain}`);
  const room = service.room(jid.bare);
  if (!room) throw new HttpError(404, `MUC not found: No MUC '${jid.local}' found for host: ${jid.domain}`);
  return room;
}

function byNickname(room: Room, nickname: string): Occupant[] {
  const prepared = prepareNick(nickname);
  const occupant = "nick" in prepared ? room.occupants.get(prepared.nick) : undefined;
  return occupant ? [occupant] : [];
}

function byAccount(room: Room, bare: string): Occupant[] {
  return [...room.occupants.values()].filter((o) => o.bare === bare);
}

export function kickRoute(deps: KickDeps): Handler {
  return async (c) => {
    const body = await readJsonObject(c.req.raw);
    const nickname = optionalString(body, "nickname");
    const account = optionalString(body, "jid");
    const muc = optionalString(body, "muc");
    const reason = optionalString(body, "reason");
    if ((nickname === undefined && account === undefined) || muc === undefined) {
      throw new HttpError(400, "Missing nickname and/or MUC");
    }
    if (nickname !== undefined && account !== undefined) {
      throw new HttpError(400, "Give either nickname or jid, not both");
    }
    if (reason !== undefined && NOT_XML_CHAR.test(reason)) {
      throw new HttpError(400, "reason contains characters XML cannot carry");
    }
    let bare: string | undefined;
    if (account !== undefined) {
      const jid = parseJid(account);
      if (!jid || jid.resource || !jid.local) {
        throw new HttpError(400, "jid must be a bare user JID (user@host) without a resource");
      }
      bare = jid.bare;
    }
    const room = findRoom(deps.service, muc);
    const occupants = bare === undefined ? byNickname(room, nickname!) : byAccount(room, bare);
    if (occupants.length === 0) throw new HttpError(400, NOT_IN_ROOM);

    const out: Element[] = [];
    deps.service.kick(room, occupants, { reason: reason || undefined, status: "307" }, out);
    deps.send(out);
    deps.metrics.kicks.http.inc(occupants.length);
    const kicked = occupants.map((o) => o.nick);
    deps.logger?.info({ muc: room.jid, kicked, by: bare === undefined ? "nickname" : "jid" }, "kicked over HTTP");
    return c.json({ kicked, muc: room.jid }, 200);
  };
}
