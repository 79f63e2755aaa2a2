import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { AuthClient, type AuthAsker, type FetchLike } from "./auth-client.ts";
import { Gate } from "./gate.ts";
import { compilePolicy } from "./policy.ts";
import type { AuthAnswer } from "./types.ts";

export interface GateDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Transport toward the auth service; default `globalThis.fetch`. */
  readonly fetch?: FetchLike | undefined;
  /** Clock for cache TTLs, in ms; default `performance`. */
  readonly perf?: { now(): number } | undefined;
}

/** The keys this module reads. */
export type GateConfig = Pick<
  Config,
  | "muc_http_auth_url"
  | "muc_http_auth_enabled_for"
  | "muc_http_auth_disabled_for"
  | "muc_http_auth_insecure"
  | "muc_http_auth_authorization_header"
  | "muc_http_auth_cache_ttl"
  | "muc_http_auth_negative_cache_ttl"
  | "muc_http_auth_cache_size"
  | "muc_http_auth_timeout"
  | "muc_http_auth_max_concurrency"
> &
  Partial<Pick<Config, "muc_http_auth_max_requests_per_user">>;

/** Stands in for the client when no URL is configured because no room needs asking (it is never asked; if it were, it fails closed). */
const NO_SERVICE: AuthAsker = {
  ask: (): Promise<AuthAnswer> =>
    Promise.resolve({ allowed: false, failure: true, reason: "muc_http_auth_url is not configured" }),
};

/**
 * Wire policy + HTTP client + gate from the `muc_http_auth_*` keys, already
 * validated by src/config.ts (which also guarantees a URL whenever some room
 * needs asking).
 */
export function createGate(config: GateConfig, deps: GateDeps): Gate {
  const policy = compilePolicy({ enabledFor: config.muc_http_auth_enabled_for, disabledFor: config.muc_http_auth_disabled_for });
  const client: AuthAsker =
    config.muc_http_auth_url === undefined
      ? NO_SERVICE
      : new AuthClient({
          url: config.muc_http_auth_url,
          authorizationHeader: config.muc_http_auth_authorization_header,
          timeout: config.muc_http_auth_timeout,
          insecure: config.muc_http_auth_insecure,
          fetch: deps.fetch,
          metrics: deps.metrics,
          logger: deps.logger,
        });
  return new Gate({
    client,
    policy,
    ttl: config.muc_http_auth_cache_ttl,
    negativeTtl: config.muc_http_auth_negative_cache_ttl,
    max: config.muc_http_auth_cache_size,
    maxConcurrency: config.muc_http_auth_max_concurrency,
    maxQuestionsPerUser: config.muc_http_auth_max_requests_per_user || undefined, // 0: no limit
    perf: deps.perf,
    metrics: deps.metrics,
    logger: deps.logger,
  });
}
