import type { StanzaError } from "../errors.ts";
import { MAX_PART_BYTES, utf8Length } from "../jid.ts";
import { refuse } from "./stanza-error.ts";

/**
 * Room nicknames: the resourcepart of an occupant JID (XEP-0045 §7.2.2, "the
 * nickname MUST conform to the Nickname Profile of the PRECIS
 * IdentifierClass", RFC 8266).
 *
 * Enforcement follows RFC 8266 §2.2: non-ASCII spaces become ASCII spaces,
 * spaces at either end are removed and runs collapse to one, then NFKC. When
 * that changes what the user asked for, the join carries status 210
 * (XEP-0045 §7.2.3: "the service has assigned or modified the occupant's
 * roomnick"). Comparison is exact after enforcement, as Prosody does.
 *
 * Refused with jid-malformed (XEP-0045 §7.2.8 uses it for invalid nicks):
 * empty, over 1023 bytes (RFC 7622 §3.1), or characters no profile allows:
 * controls, unpaired surrogates, private use, unassigned and non-characters,
 * line/paragraph separators, and the bidi/format controls RFC 3454 C.8 lists
 * (they let a nick impersonate another on screen).
 */
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u200E\u200F\u202A-\u202E\u2066-\u2069\u206A-\u206F\uFFF9-\uFFFD]/u;
const NON_ASCII_SPACE = /\p{Zs}/gu;
const SPACES = / {2,}/g;
const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export interface PreparedNick {
  readonly nick: string;
  /** The service changed the requested nick (status 210). */
  readonly changed: boolean;
}

export function prepareNick(requested: string): PreparedNick | StanzaError {
  // Printable ASCII without edge or double spaces is already in final form;
  // this is almost every real nick, so skip the Unicode work for it.
  let nick = requested;
  if (!PLAIN.test(requested) || requested.includes("  ")) {
    if (FORBIDDEN.test(requested)) return refuse.jidMalformed("Nickname contains forbidden characters");
    nick = requested.replace(NON_ASCII_SPACE, " ").trim().replace(SPACES, " ").normalize("NFKC");
    if (FORBIDDEN.test(nick)) return refuse.jidMalformed("Nickname contains forbidden characters");
  }
  if (nick.length === 0) return refuse.jidMalformed("Nickname must not be empty");
  if (utf8Length(nick) > MAX_PART_BYTES) return refuse.jidMalformed("Nickname is longer than 1023 bytes");
  return { nick, changed: nick !== requested };
}
