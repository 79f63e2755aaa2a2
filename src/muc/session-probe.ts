import type { Element } from "@xmpp/xml";
import type { Incoming } from "./incoming.ts";
import { NS } from "./namespaces.ts";
import type { Room } from "./room.ts";
import { BOUNCES_OF_GONE_SESSIONS, isSessionGone } from "./session-gone.ts";
import { element } from "./stanza.ts";
import type { Turn } from "./turn.ts";

/**
 * Checking that an occupant's session still exists (after a restart that
 * kept the occupants, or after the link to the XMPP server came back): a
 * disco#info request from the room to the session. Every client answers
 * disco#info (XEP-0115 caps rest on it); for a resource that is gone the
 * user's server answers for it with an error (RFC 6121 §8.5.3.2.1), and the
 * session leaves with status 333, as for any bounce that says it is gone.
 */
const PREFIX = "mucgate-probe:";

/**
 * Answers to a probe that mean the session is gone: the bounce list without
 * `internal-server-error` and `jid-malformed`, which a live client's own
 * disco#info handler may answer.
 */
const GONE = new Set([...BOUNCES_OF_GONE_SESSIONS].filter((c) => c !== "internal-server-error" && c !== "jid-malformed"));

export function sessionProbe(room: Room, session: string): Element | undefined {
  if (!room.sessions.has(session)) return undefined;
  return element("iq", { type: "get", from: room.jid, to: session, id: `${PREFIX}${Date.now().toString(36)}` }, [
    element("query", { xmlns: NS.DISCO_INFO }),
  ]);
}

/** An answer to a probe (an IQ result or error to the room's bare JID): true when it was one. */
export function probeAnswered(inc: Incoming, turn: Turn): boolean {
  const { stanza, room, occupant } = inc;
  if (!stanza.attrs.id?.startsWith(PREFIX)) return false;
  if (stanza.attrs.type !== "error" || !room || !occupant) return true;
  if (isSessionGone(stanza, GONE)) room.leave(occupant, inc.from.full, { cause: "error", payload: [] }, turn);
  return true;
}
