import crypto from "node:crypto";

/** The header that carries the signature, named as GitHub's X-Hub-Signature-256. */
export const SIGNATURE_HEADER = "x-mucgate-signature-256";

/**
 * `sha256=<hex>`: HMAC-SHA256 of the exact body bytes under
 * `muc_events_secret` (README "Events"). A receiver computes the same over
 * the raw body and compares in constant time.
 */
export function signature(secret: string, body: string): string {
  return `sha256=${crypto.createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}
