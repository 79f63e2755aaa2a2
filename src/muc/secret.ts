import { createHmac, randomBytes } from "node:crypto";

/**
 * The service's per-process secret, and the two opaque identifiers derived
 * from it. Both must not reveal real JIDs to other occupants; an HMAC gives
 * that without storing anything. They change when mucgate restarts, which
 * XEP-0421 §4 allows for services whose rooms do not persist.
 */
/** Occupant ids remembered, so a rejoin costs a Map lookup instead of an HMAC (~2 µs). */
const ID_CACHE_SIZE = 65_536;

export class ServiceSecret {
  readonly #key: Buffer;
  /** (room, bare JID) → occupant id; oldest dropped first when full. */
  readonly #ids = new Map<string, string>();

  constructor(secret?: string) {
    this.#key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** XEP-0421 occupant id: stable for one real bare JID in one room, unlinkable across rooms. */
  occupantId(roomJid: string, bareJid: string): string {
    const key = roomJid + "\0" + bareJid;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = createHmac("sha256", this.#key).update(key).digest("base64url").slice(0, 22);
      if (this.#ids.size >= ID_CACHE_SIZE) this.#ids.delete(this.#ids.keys().next().value!);
      this.#ids.set(key, id);
    }
    return id;
  }

  /** A short tag naming a real session inside a forwarded IQ id, so the answer finds its way back. */
  sessionTag(fullJid: string): string {
    return createHmac("sha256", this.#key).update(fullJid).digest("base64url").slice(0, 11);
  }
}
