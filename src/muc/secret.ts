import { createHmac, randomBytes } from "node:crypto";

/**
 * The service's per-process secret, and the two opaque identifiers derived
 * from it. Both must not reveal real JIDs to other occupants; an HMAC gives
 * that without storing anything. They change when mucgate restarts, which
 * XEP-0421 §4 allows for services whose rooms do not persist.
 */
export class ServiceSecret {
  readonly #key: Buffer;

  constructor(secret?: string) {
    this.#key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** XEP-0421 occupant id: stable for one real bare JID in one room, unlinkable across rooms. */
  occupantId(roomJid: string, bareJid: string): string {
    return createHmac("sha256", this.#key).update(roomJid).update("\0").update(bareJid).digest("base64url").slice(0, 22);
  }

  /** A short tag naming a real session inside a forwarded IQ id, so the answer finds its way back. */
  sessionTag(fullJid: string): string {
    return createHmac("sha256", this.#key).update(fullJid).digest("base64url").slice(0, 11);
  }
}
