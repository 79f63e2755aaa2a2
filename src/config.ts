import type { LogLevel } from "./log.ts";

/** Host → room nodes, `all` for every user host (mod_muc_http_auth's shape). */
export type RoomsByHost = Readonly<Record<string, readonly string[]>>;

/**
 * The validated configuration. Keys are the contract's (and Prosody's) option
 * names verbatim; durations are seconds. Frozen.
 */
export interface Config {
  readonly component_jid: string;
  readonly component_secret: string;
  readonly component_service: string;
  readonly http_interface: string;
  readonly http_port: number;
  readonly muc_http_auth_url: string | undefined;
  readonly muc_http_auth_enabled_for: RoomsByHost | undefined;
  readonly muc_http_auth_disabled_for: RoomsByHost | undefined;
  readonly muc_http_auth_insecure: boolean;
  readonly muc_http_auth_authorization_header: string | undefined;
  readonly muc_http_auth_authorize_registration: boolean;
  readonly muc_http_auth_cache_ttl: number;
  readonly muc_http_auth_negative_cache_ttl: number;
  readonly muc_http_auth_cache_size: number;
  readonly muc_http_auth_timeout: number;
  readonly muc_http_auth_max_concurrency: number;
  readonly http_muc_kick_authorization_header: string;
  readonly max_history_messages: number;
  readonly log_level: LogLevel;
}

// TODO(config helper): loadConfig / parseConfig implementation.
