import type { Handler } from "hono";
import { z } from "zod";
import { bareJid } from "../jid.ts";
import type { Logger } from "../log.ts";
import { jsonObject, readJsonBody, stringField } from "./body.ts";

/**
 * `POST /muc_auth/forget`: drop the join gate's cached decisions so that a
 * revoked (or newly granted) access takes effect now, not after the cache
 * TTL. `{ userJID }`, `{ muc }` or both narrow what is dropped; only an
 * explicit `{ "all": true }` drops everything, so a body that names nothing
 * usable (a typo in a field name) is refused instead of wiping the cache.
 */

/** Bare JIDs, normalised; neither = every decision. */
export interface ForgetScope {
  userJID?: string;
  mucJID?: string;
}

/** What the route needs of the join gate. */
export interface DecisionForgetter {
  /** Drop cached decisions in `scope`; returns how many were dropped. */
  forget(scope: ForgetScope): number;
}

export interface ForgetDeps {
  /** The join gate; absent when none is configured (nothing is cached, 0 forgotten). */
  decisions?: DecisionForgetter | undefined;
  logger?: Logger | undefined;
}

/** A JID field, normalised to its bare form. */
function jidField(field: string) {
  return stringField(field)
    .refine((text) => bareJid(text) !== undefined, `${field} is not a valid JID`)
    .transform((text) => bareJid(text)!);
}

/** The scope a body asks for; the first failing check is the 400. */
export const FORGET_BODY = jsonObject({
  userJID: jidField("userJID").optional(),
  muc: jidField("muc").optional(),
  all: z.boolean({ error: "all must be a boolean" }).optional(),
})
  .refine((b) => b.all !== true || (b.userJID === undefined && b.muc === undefined), 'Give either "all": true or userJID and/or muc, not both')
  .refine((b) => b.all === true || b.userJID !== undefined || b.muc !== undefined, "Give userJID and/or muc")
  .transform(({ userJID, muc }) => {
    const scope: ForgetScope = {};
    if (userJID !== undefined) scope.userJID = userJID;
    if (muc !== undefined) scope.mucJID = muc;
    return scope;
  });

export function forgetRoute(deps: ForgetDeps): Handler {
  return async (c) => {
    const scope = await readJsonBody(c.req.raw, FORGET_BODY);
    const forgotten = deps.decisions ? deps.decisions.forget(scope) : 0;
    deps.logger?.info({ ...scope, all: scope.userJID === undefined && scope.mucJID === undefined, forgotten }, "decisions forgotten over HTTP");
    return c.json({ forgotten }, 200);
  };
}
