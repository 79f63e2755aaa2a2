import type { RoomsByHost } from "../config.ts";
import { ConfigError } from "../errors.ts";

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

function compile(option: string, map: RoomsByHost): Compiled {
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new ConfigError(option, "must be a map of user host to a list of room nodes");
  }
  const byHost = new Map<string, Set<string>>();
  for (const [host, rooms] of Object.entries(map)) {
    if (!Array.isArray(rooms) || rooms.some((r) => typeof r !== "string")) {
      throw new ConfigError(`${option}.${host}`, "must be a list of room nodes (strings)");
    }
    byHost.set(host, new Set(rooms));
  }
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
 * is an error here. Room nodes and hosts are compared as given: the caller passes
 * them lower-cased (RFC 7622 §3.2-3.3), and the config lists are lower-cased too.
 */
export function compilePolicy(options: PolicyOptions): Policy {
  const { enabledFor, disabledFor } = options;
  if (enabledFor !== undefined && disabledFor !== undefined) {
    throw new ConfigError("muc_http_auth_disabled_for", "set at most one of muc_http_auth_enabled_for and muc_http_auth_disabled_for");
  }
  if (enabledFor !== undefined) {
    const { all, byHost } = compile("muc_http_auth_enabled_for", enabledFor);
    return (roomNode, userHost) => all.has(roomNode) || (byHost.get(userHost)?.has(roomNode) ?? false);
  }
  if (disabledFor !== undefined) {
    const { all, byHost } = compile("muc_http_auth_disabled_for", disabledFor);
    return (roomNode, userHost) => !all.has(roomNode) && !(byHost.get(userHost)?.has(roomNode) ?? false);
  }
  return () => true;
}

/** Whether a policy built from these options can ever require authorization. */
export function policyNeverApplies(options: PolicyOptions): boolean {
  const { enabledFor } = options;
  return (
    enabledFor !== undefined && options.disabledFor === undefined && Object.values(enabledFor).every((r) => r.length === 0)
  );
}
