import type { Handler } from "hono";
import { HttpError } from "../errors.ts";
import { parseJid } from "../jid.ts";
import type { Logger } from "../log.ts";
import { optionalString, readJsonObject, type JsonObject } from "./body.ts";

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

export function isDecisionForgetter(value: unknown): value is DecisionForgetter {
  return typeof value === "object" && value !== null && typeof (value as { forget?: unknown }).forget === "function";
}

export interface ForgetDeps {
  /** The join gate; absent when none is configured (nothing is cached, 0 forgotten). */
  decisions?: DecisionForgetter | undefined;
  logger?: Logger | undefined;
}

function bareOf(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const jid = parseJid(value);
  if (!jid) throw new HttpError(400, `${field} is not a valid JID`);
  return jid.bare;
}

/** The scope a body asks for; throws the 400 for every malformed one. */
export function forgetScope(body: JsonObject): ForgetScope {
  const userJID = bareOf("userJID", optionalString(body, "userJID"));
  const mucJID = bareOf("muc", optionalString(body, "muc"));
  const all = Object.hasOwn(body, "all") ? body.all : undefined;
  if (all !== undefined && typeof all !== "boolean") throw new HttpError(400, "all must be a boolean");
  if (all === true) {
    if (userJID !== undefined || mucJID !== undefined) {
      throw new HttpError(400, 'Give either "all": true or userJID and/or muc, not both');
    }
    return {};
  }
  if (userJID === undefined && mucJID === undefined) throw new HttpError(400, "Give userJID and/or muc");
  const scope: ForgetScope = {};
  if (userJID !== undefined) scope.userJID = userJID;
  if (mucJID !== undefined) scope.mucJID = mucJID;
  return scope;
}

export function forgetRoute(deps: ForgetDeps): Handler {
  return async (c) => {
    const scope = forgetScope(await readJsonObject(c.req.raw));
    const forgotten = deps.decisions ? deps.decisions.forget(scope) : 0;
    deps.logger?.info({ ...scope, all: scope.userJID === undefined && scope.mucJID === undefined, forgotten }, "decisions forgotten over HTTP");
    return c.json({ forgotten }, 200);
  };
}
