/**
 * JIDs (RFC 7622), parsed once per stanza on the hot path, so this is written
 * with indexOf instead of regular expressions and allocates one object.
 *
 * Normalisation is the part that matters for mucgate: the localpart and
 * domainpart are case-insensitive (RFC 7622 §3.2, §3.3: UsernameCaseMapped,
 * IDNA2008 lower case), so `Alice@Host` and `alice@host` are the same user and
 * must share one room seat and one cached decision. The resourcepart keeps its
 * case (OpaqueString, §3.4). Full PRECIS enforcement is the XMPP server's job;
 * mucgate rejects what would break routing or identity: empty parts, parts over
 * 1023 bytes, and the characters RFC 7622 §3.3.1 forbids in a localpart.
 */

export interface Jid {
  /** Normalised localpart, "" when absent. */
  readonly local: string;
  /** Normalised domainpart, never empty. */
  readonly domain: string;
  /** Resourcepart as sent (case kept), "" when absent. */
  readonly resource: string;
  /** `local@domain` or `domain`. */
  readonly bare: string;
  /** `bare/resource` or `bare`. */
  readonly full: string;
}

/** RFC 7622 §3.1: each part is at most 1023 octets of UTF-8. */
export const MAX_PART_BYTES = 1023;

// RFC 7622 §3.3.1 forbids these in a localpart, plus every space and control.
const FORBIDDEN_LOCAL = /["&'/:<>@\s\p{Cc}]/u;
const CONTROL = /\p{Cc}/u;
const NON_ASCII = /[^\x00-\x7f]/;

export function utf8Length(s: string): number {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no count.
  return s.length * 3 <= MAX_PART_BYTES ? s.length : Buffer.byteLength(s, "utf8");
}

function fitsPart(s: string): boolean {
  return s.length > 0 && (s.length * 3 <= MAX_PART_BYTES || Buffer.byteLength(s, "utf8") <= MAX_PART_BYTES);
}

function caseFold(s: string): string {
  return NON_ASCII.test(s) ? s.normalize("NFC").toLowerCase() : s.toLowerCase();
}

/** Parse and normalise a JID; `undefined` when it is malformed. */
export function parseJid(input: string): Jid | undefined {
  if (typeof input !== "string" || input.length === 0) return undefined;
  const slash = input.indexOf("/");
  const head = slash === -1 ? input : input.slice(0, slash);
  const resource = slash === -1 ? "" : input.slice(slash + 1);
  const at = head.indexOf("@");
  let local = "";
  let domain: string;
  if (at === -1) {
    domain = head;
  } else {
    local = head.slice(0, at);
    domain = head.slice(at + 1);
    if (!fitsPart(local) || FORBIDDEN_LOCAL.test(local)) return undefined;
    local = caseFold(local);
  }
  // RFC 7622 §3.2: a trailing dot is stripped before comparison.
  if (domain.endsWith(".")) domain = domain.slice(0, -1);
  if (!fitsPart(domain) || FORBIDDEN_LOCAL.test(domain)) return undefined;
  domain = caseFold(domain);
  if (slash !== -1) {
    if (!fitsPart(resource) || CONTROL.test(resource)) return undefined;
  }
  const bare = local ? `${local}@${domain}` : domain;
  return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

/** The bare form of a JID string, normalised; `undefined` when malformed. */
export function bareJid(input: string): string | undefined {
  return parseJid(input)?.bare;
}
