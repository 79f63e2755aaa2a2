import type { RoomsByHost } from "../config.ts";

/** `must_be_authorized(room node, user host)`: whether a join must be asked about. */
export type Policy = (roomNode: string, userHost: string) => boolean;

export interface PolicyOptions {
  /** `muc_http_auth_enabled_for`: host (or `all`) → room nodes that need authorization. */
  readonly enabledFor?: RoomsByHost | undefined;
  /** `muc_http_auth_disabled_for`: host (or `all`) → room nodes that need none. */
  readonly disabledFor?: RoomsByHost | undefined;
}

/** The key mod_muc_http_auth reads for "every user host". */
export const ALL_HOSTS = "all";

/** One map compiled to Sets: O(1) per question instead of mod_muc_http_auth's set.new per join. */
interface Compiled {
  readonly all: ReadonlySet<string>;
  readonly byHost: ReadonlyMap<string, ReadonlySet<string>>;
}

const NONE: ReadonlySet<string> = new Set();

function compile(map: RoomsByHost): Compiled {
  const byHost = new Map<string, ReadonlySet<string>>();
  for (const [host, rooms] of Object.entries(map)) byHost.set(host, new Set(rooms));
  return { all: byHost.get(ALL_HOSTS) ?? NONE, byHost };
}

/**
 * Compile mod_muc_http_auth's `must_be_authorized` (seed module, verbatim semantics):
 * - neither map set: every room needs authorization;
 * - `enabled_for`: only rooms listed for the user's host or for `all`;
 * - `disabled_for`: every room except those listed for the user's host or for `all`.
 *
 * As in the Lua module, a map that is set but empty still counts as set: an
 * empty `enabled_for` means no room is asked about. The module silently let
 * `enabled_for` win when both were set; the contract allows at most one, so that
 * is an error here (src/config.ts says so to the operator). Room nodes and hosts
 * are compared as given: the caller passes them lower-cased (RFC 7622 §3.2-3.3),
 * and the config lists are lower-cased and validated there.
 */
export function compilePolicy(options: PolicyOptions): Policy {
  const { enabledFor, disabledFor } = options;
  if (enabledFor !== undefined && disabledFor !== undefined) {
    throw new TypeError("options: set at most one of enabledFor and disabledFor");
  }
  if (enabledFor !== undefined) {
    const { all, byHost } = compile(enabledFor);
    return (roomNode, userHost) => all.has(roomNode) || (byHost.get(userHost)?.has(roomNode) ?? false);
  }
  if (disabledFor !== undefined) {
    const { all, byHost } = compile(disabledFor);
    return (roomNode, userHost) => !all.has(roomNode) && !(byHost.get(userHost)?.has(roomNode) ?? false);
  }
  return () => true;
}
