import { parseConfig, type Config } from "../../src/config.ts";

/** The component domain every benchmark uses. */
export const DOMAIN = "rooms.bench";
export const SECRET = "bench-secret";

/**
 * A Config as production builds it (TOML through `parseConfig`), with the
 * contract's defaults except for the keys given.
 */
export function benchConfig(keys: Record<string, string | number | boolean> = {}): Config {
  const all: Record<string, string | number | boolean> = {
    component_jid: DOMAIN,
    component_secret: SECRET,
    http_muc_kick_authorization_header: "Bearer bench",
    muc_http_auth_url: "http://127.0.0.1:9/auth",
    log_level: "error",
    // Benchmarks that measure storage say which; the others keep nothing.
    storage: "memory",
    ...keys,
  };
  const toml = Object.entries(all)
    .map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : String(v)}`)
    .join("\n");
  return parseConfig({ toml, source: "bench", env: {} });
}
