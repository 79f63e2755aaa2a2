/**
 * Configuration: one TOML file plus the environment, turned into one validated,
 * typed, deeply frozen `Config` (DESIGN.md "Configuration").
 *
 * - Keys are flat and keep Prosody's option names verbatim, so a Prosody admin
 *   can copy `mod_muc_http_auth` / `mod_http_muc_kick` settings across.
 * - Every key may also come from `MUCGATE_<KEY IN UPPER CASE>`; the environment
 *   wins over the file, key by key.
 * - Unknown keys, wrong types and missing required keys stop start-up. Every
 *   problem is reported at once, one line each, starting with the key's name,
 *   so an operator fixes a file in one round instead of one error per restart.
 * - Secrets (the component secret and both Authorization values) are never
 *   echoed in a message: messages end up in logs and CI output.
 *
 * Nothing here reads `process.env` or `process.argv`: `src/main.ts` passes the
 * environment in, which keeps this module pure and testable.
 */
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { closest } from "./edit-distance.ts";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { parseJid } from "./jid.ts";
import type { LogLevel } from "./log.ts";

/** Host → room nodes, `all` for every user host (mod_muc_http_auth's shape). */
export type RoomsByHost = Readonly<Record<string, readonly string[]>>;

/**
 * The validated configuration. Keys are the contract's (and Prosody's) option
 * names verbatim; durations are seconds. Frozen.
 */
export interface Config {
  /** The MUC service's domain, lower case (RFC 7622 §3.2). */
  readonly component_jid: string;
  readonly component_secret: string;
  /** `xmpp://host:port` as given; @xmpp/component defaults a missing port to 5347. */
  readonly component_service: string;
  readonly http_interface: string;
  readonly http_port: number;
  /** Absolute http(s) URL as given, possibly with a query string; absent only when auth is off everywhere. */
  readonly muc_http_auth_url: string | undefined;
  /** Host keys and room nodes lower case; at most one of the two maps is set. */
  readonly muc_http_auth_enabled_for: RoomsByHost | undefined;
  readonly muc_http_auth_disabled_for: RoomsByHost | undefined;
  readonly muc_http_auth_insecure: boolean;
  readonly muc_http_auth_authorization_header: string | undefined;
  readonly muc_http_auth_authorize_registration: boolean;
  /** Seconds; 0 = never reuse an `allowed: true` decision. */
  readonly muc_http_auth_cache_ttl: number;
  /** Seconds; 0 = never reuse an `allowed: false` decision. */
  readonly muc_http_auth_negative_cache_ttl: number;
  readonly muc_http_auth_cache_size: number;
  /** Seconds, > 0 and ≤ 3600. */
  readonly muc_http_auth_timeout: number;
  readonly muc_http_auth_max_concurrency: number;
  readonly http_muc_kick_authorization_header: string;
  /** Messages of discussion history kept per room (mucgate's addition to the contract), 0..1000. */
  readonly max_history_messages: number;
  readonly log_level: LogLevel;
}

export type ConfigKey = keyof Config;

/** What `parseConfig` reads: TOML text (optional), its path for messages, and the environment. */
export interface ConfigInput {
  readonly toml?: string;
  /** The file the TOML came from; named in syntax errors and unknown-key messages. */
  readonly source?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Defaults of the keys that have one (DESIGN.md "Configuration"); the others are required or optional. */
export const DEFAULTS = Object.freeze({
  component_service: "xmpp://127.0.0.1:5347",
  http_interface: "127.0.0.1",
  http_port: 5380,
  muc_http_auth_insecure: false,
  muc_http_auth_authorize_registration: false,
  muc_http_auth_cache_ttl: 30,
  muc_http_auth_negative_cache_ttl: 5,
  muc_http_auth_cache_size: 100_000,
  muc_http_auth_timeout: 5,
  muc_http_auth_max_concurrency: 64,
  max_history_messages: 20,
  log_level: "info",
} as const satisfies Partial<Config>);

export const ENV_PREFIX = "MUCGATE_";

/** The environment variable that overrides `key`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.toUpperCase();
}

// ---------------------------------------------------------------------------
// Checking one value

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = (message: string): Checked<never> => ({ ok: false, message });

/** How an environment string becomes a value of the key's TOML type. */
type EnvKind = "string" | "number" | "boolean" | "rooms";

interface KeySpec<T> {
  readonly env: EnvKind;
  /** What a valid value looks like, for messages: "expected <expected>, got …". */
  readonly expected: string;
  /** Validates and normalises a value from TOML (or coerced from the environment). */
  readonly check: (value: unknown, describe: (v: unknown) => string) => Checked<T>;
  /** Why the key may not be left out; absent for keys with a default or none. */
  readonly required?: string;
  /** Never echo the value in a message. */
  readonly secret?: boolean;
}

const MAX_SHOWN = 60;

/** A short, single-line picture of a wrong value for a message. */
function describeValue(value: unknown, secret: boolean): string {
  if (typeof value === "string") {
    if (secret) return value === "" ? "an empty string" : "a string";
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean") return secret ? `a ${typeof value}` : String(value);
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // smol-toml builds null-prototype tables, JSON.parse ordinary ones.
  return proto === null || proto === Object.prototype;
}

/** A string key: `expected` doubles as the message for a non-string or empty value. */
function stringKey(expected: string, extra?: (s: string) => Checked<string>): KeySpec<string> {
  return {
    env: "string",
    expected,
    check: (value, describe) => {
      if (typeof value !== "string" || value.length === 0) return fail(`expected ${expected}, got ${describe(value)}`);
      return extra ? extra(value) : ok(value);
    },
  };
}

/** A number of the given range; `integer` rejects fractions. */
function numberKey(expected: string, integer: boolean, inRange: (n: number) => boolean): KeySpec<number> {
  return {
    env: "number",
    expected,
    check: (value, describe) =>
      typeof value === "number" && Number.isFinite(value) && (!integer || Number.isInteger(value)) && inRange(value)
        ? ok(value)
        : fail(`expected ${expected}, got ${describe(value)}`),
  };
}

const booleanKey: KeySpec<boolean> = {
  env: "boolean",
  expected: "true or false",
  check: (value, describe) => (typeof value === "boolean" ? ok(value) : fail(`expected true or false, got ${describe(value)}`)),
};

/** The domain of a JID with neither localpart nor resource, normalised; undefined otherwise. */
function domainOf(text: string): string | undefined {
  const jid = parseJid(text);
  return jid !== undefined && jid.local === "" && !text.includes("/") ? jid.domain : undefined;
}

/** A room node (JID localpart), normalised; undefined when it could not be one. */
function roomNodeOf(text: string): string | undefined {
  const jid = parseJid(`${text}@room.invalid`);
  return jid !== undefined && jid.domain === "room.invalid" && jid.resource === "" && !text.includes("/")
    ? jid.local
    : undefined;
}

const ROOMS_EXPECTED = 'a table of host → array of room names, e.g. { all = ["lobby"], "example.org" = ["staff"] }';

/**
 * `{ host = ["room", …] }` as mod_muc_http_auth takes it. Hosts are user
 * domains or `all`; rooms are room nodes. Both are compared against normalised
 * JIDs at join time, so they are lower-cased here once, and duplicates that
 * differ only in case merge.
 */
function checkRooms(value: unknown, describe: (v: unknown) => string): Checked<RoomsByHost> {
  if (!isPlainTable(value)) return fail(`expected ${ROOMS_EXPECTED}, got ${describe(value)}`);
  const hosts = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [hostKey, rooms] of Object.entries(value)) {
    const host = hostKey.toLowerCase() === "all" ? "all" : domainOf(hostKey);
    if (host === undefined) problems.push(`host ${JSON.stringify(hostKey)} is neither a domain nor "all"`);
    if (!Array.isArray(rooms)) {
      problems.push(`rooms for ${JSON.stringify(hostKey)} must be an array of room names, got ${describe(rooms)}`);
      continue;
    }
    const nodes = (host === undefined ? undefined : hosts.get(host)) ?? [];
    for (const room of rooms) {
      const node = typeof room === "string" ? roomNodeOf(room) : undefined;
      if (node === undefined) {
        problems.push(`${describe(room)} for ${JSON.stringify(hostKey)} is not a room name (a JID localpart such as "lobby")`);
      } else if (!nodes.includes(node)) {
        nodes.push(node);
      }
    }
    if (host !== undefined) hosts.set(host, nodes);
  }
  if (problems.length > 0) return fail(problems.join("; "));
  return ok(Object.freeze(Object.fromEntries([...hosts].map(([host, nodes]) => [host, Object.freeze(nodes)]))));
}

/**
 * An HTTP header value we can send or compare: Latin-1 without control
 * characters (a line break would split the header; fetch rejects others),
 * and no surrounding whitespace, which HTTP strips, so a kick carrying the
 * configured value could never match it.
 */
function checkHeaderValue(value: string): Checked<string> {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return fail("must not contain control characters or line breaks");
  if (/[^\x00-\xff]/.test(value)) return fail("must contain only Latin-1 characters (HTTP header values are bytes)");
  if (value.trim() !== value) return fail("must not start or end with whitespace (HTTP strips it)");
  return ok(value);
}

// `xmpp://host[:port]`, host a name, IPv4 or bracketed IPv6; a trailing "/" is tolerated.
const XMPP_SERVICE = /^xmpp:\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?\/?$/;

function checkXmppService(text: string): Checked<string> {
  const match = XMPP_SERVICE.exec(text);
  const port = match?.[1] === undefined ? undefined : Number(match[1]);
  if (match === null || (port !== undefined && (port < 1 || port > 65535))) {
    return fail(`expected xmpp://host:port (port 1..65535, 5347 when left out), got ${describeValue(text, false)}`);
  }
  return ok(text);
}

/** The auth URL: its value is not echoed, as it may carry a token in its query or user part. */
function checkAuthUrl(text: string): Checked<string> {
  if (!/^https?:\/\//i.test(text)) return fail("expected an absolute URL starting with http:// or https://");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail("is not a valid absolute http(s) URL");
  }
  if (url.hostname === "") return fail("is not a valid absolute http(s) URL: it has no host");
  // mucgate appends ?userJID=…&mucJID=…&nickname=…; after a fragment they would never be sent.
  if (text.includes("#")) return fail("must not contain a #fragment (the query parameters are appended to the URL)");
  return ok(text);
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const MAX_INT = Number.MAX_SAFE_INTEGER;

/**
 * Every key, in the contract's order, with how it is checked. The mapped type
 * makes the compiler insist that each `Config` key has a spec of its type.
 */
const SPECS: { readonly [K in ConfigKey]-?: KeySpec<Exclude<Config[K], undefined>> } = {
  component_jid: {
    env: "string",
    expected: "a domain JID such as rooms.example.org (no user@, no /resource)",
    required: "the MUC service's domain, e.g. rooms.example.org",
    check: (value, describe) => {
      const domain = typeof value === "string" ? domainOf(value) : undefined;
      return domain !== undefined
        ? ok(domain)
        : fail(`expected a domain JID such as rooms.example.org (no user@, no /resource), got ${describe(value)}`);
    },
  },
  component_secret: {
    ...stringKey("a non-empty string"),
    required: "the component secret configured for this domain in the XMPP server",
    secret: true,
  },
  component_service: stringKey("xmpp://host:port", checkXmppService),
  http_interface: stringKey("a non-empty string (an address to listen on, e.g. 127.0.0.1)"),
  http_port: numberKey("an integer from 1 to 65535", true, (n) => n >= 1 && n <= 65535),
  muc_http_auth_url: stringKey("an absolute http:// or https:// URL", checkAuthUrl),
  muc_http_auth_enabled_for: { env: "rooms", expected: ROOMS_EXPECTED, check: checkRooms },
  muc_http_auth_disabled_for: { env: "rooms", expected: ROOMS_EXPECTED, check: checkRooms },
  muc_http_auth_insecure: booleanKey,
  muc_http_auth_authorization_header: {
    ...stringKey("a non-empty string (the Authorization header value)", checkHeaderValue),
    secret: true,
  },
  muc_http_auth_authorize_registration: booleanKey,
  muc_http_auth_cache_ttl: numberKey("a number of seconds >= 0 (0 = do not cache)", false, (n) => n >= 0),
  muc_http_auth_negative_cache_ttl: numberKey("a number of seconds >= 0 (0 = do not cache)", false, (n) => n >= 0),
  muc_http_auth_cache_size: numberKey("an integer >= 1", true, (n) => n >= 1 && n <= MAX_INT),
  muc_http_auth_timeout: numberKey("a number of seconds > 0 and <= 3600", false, (n) => n > 0 && n <= 3600),
  muc_http_auth_max_concurrency: numberKey("an integer >= 1", true, (n) => n >= 1 && n <= MAX_INT),
  http_muc_kick_authorization_header: {
    ...stringKey("a non-empty string (the exact Authorization value every kick must carry)", checkHeaderValue),
    required:
      "mucgate does not start without it, so that the kick API is never open to anyone; " +
      "set the exact Authorization value every POST /muc_kick must carry",
    secret: true,
  },
  max_history_messages: numberKey("an integer from 0 to 1000", true, (n) => n >= 0 && n <= 1000),
  // Any case is accepted (MUCGATE_LOG_LEVEL=INFO is common) and stored lower case, as pino wants it.
  log_level: {
    env: "string",
    expected: "one of debug, info, warn, error",
    check: (value, describe) => {
      const level = typeof value === "string" ? value.toLowerCase() : undefined;
      return LOG_LEVELS.includes(level as LogLevel)
        ? ok(level as LogLevel)
        : fail(`expected one of debug, info, warn, error, got ${describe(value)}`);
    },
  },
};

/** Every configuration key, in the contract's order. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze(Object.keys(SPECS) as ConfigKey[]);

function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(SPECS, key);
}

// ---------------------------------------------------------------------------
// Environment strings → values

// Decimal only: "12abc", "0x10", "" and "Infinity" are not numbers here.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, yes: true, "1": true, false: false, no: false, "0": false };

/**
 * Coerce an environment string to the key's TOML type; the key's own check
 * then runs on the result exactly as on a file value, so both sources get the
 * same rules and the same messages. A failure's message is what the string
 * should have looked like ("" = the key's own `expected`).
 */
function fromEnv(kind: EnvKind, text: string): Checked<unknown> {
  switch (kind) {
    case "string":
      return ok(text);
    case "number": {
      const trimmed = text.trim();
      return DECIMAL.test(trimmed) ? ok(Number(trimmed)) : fail("");
    }
    case "boolean": {
      const value = BOOLEANS[text.trim().toLowerCase()];
      return value === undefined ? fail("true, false, yes, no, 1 or 0") : ok(value);
    }
    case "rooms":
      return roomsFromEnv(text);
  }
}

/** A map from the environment: JSON (`{"all":["room"]}`) or a TOML inline table (`{ all = ["room"] }`). */
function roomsFromEnv(text: string): Checked<unknown> {
  try {
    return ok(JSON.parse(text));
  } catch {
    // Not JSON; try TOML below.
  }
  try {
    const doc = parseToml(`value = ${text}`);
    // More than one key means the text smuggled extra lines in: not one inline table.
    if (Object.keys(doc).length === 1) return ok(doc.value);
  } catch {
    // Neither; reported below.
  }
  return fail('JSON like {"all":["room"]} or a TOML inline table like { all = ["room"] }');
}

// ---------------------------------------------------------------------------
// Parsing

/**
 * Key names as they appear in messages: raw, so the operator can search for
 * them, unless empty or holding control characters (a line break would split
 * the one-problem-per-line report).
 */
function showKey(key: string): string {
  return key === "" || /\p{Cc}/u.test(key) ? JSON.stringify(key) : key;
}

function didYouMean(candidate: string | undefined): string {
  return candidate === undefined ? "" : `; did you mean ${candidate}?`;
}

function readToml(toml: string | undefined, source: string | undefined): Record<string, unknown> {
  if (toml === undefined) return {};
  try {
    // A BOM from a Windows editor is not part of the document.
    return parseToml(toml.replace(/^\uFEFF/, ""));
  } catch (error) {
    // Only the first line of smol-toml's message: the rest quotes the file, which may hold a secret.
    const reason = (error instanceof Error ? error.message : String(error))
      .split("\n")[0]!
      .replace(/^Invalid TOML document:\s*/, "");
    const at = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : "";
    throw new ConfigError(source ?? "config", `invalid TOML${at}: ${reason}`);
  }
}

/**
 * File + environment → a validated, deeply frozen `Config`. Throws one
 * `ConfigError` listing every problem (`error.problems`), one per line.
 */
export function parseConfig(input: ConfigInput): Config {
  const file = readToml(input.toml, input.source);
  const env = input.env ?? {};
  const problems: ConfigProblem[] = [];

  // Unknown names first: a misspelt key usually explains a "required" below it.
  for (const key of Object.keys(file)) {
    if (isConfigKey(key)) continue;
    const where = input.source === undefined ? "" : ` in ${input.source}`;
    problems.push({ key: showKey(key), message: `unknown key${where}${didYouMean(closest(key, CONFIG_KEYS, 3))}` });
  }
  const envText = new Map<ConfigKey, string>();
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const key = name.slice(ENV_PREFIX.length).toLowerCase();
    if (isConfigKey(key) && name === envName(key)) {
      envText.set(key, text);
    } else {
      const hint = closest(name.slice(ENV_PREFIX.length), CONFIG_KEYS, 3);
      problems.push({
        key: showKey(name),
        message: `unknown environment variable: mucgate reads ${ENV_PREFIX}<KEY> only for its configuration keys${didYouMean(hint && envName(hint))}`,
      });
    }
  }

  const values: Partial<Record<ConfigKey, unknown>> = {};
  const supplied = new Set<ConfigKey>();
  const invalid = new Set<ConfigKey>();
  for (const key of CONFIG_KEYS) {
    const spec: KeySpec<unknown> = SPECS[key];
    const describe = (v: unknown) => describeValue(v, spec.secret === true);
    const text = envText.get(key);
    const origin = text === undefined ? "" : ` (from ${envName(key)})`;
    let raw: unknown = file[key];
    if (raw !== undefined || text !== undefined) supplied.add(key);
    if (text !== undefined) {
      const coerced = fromEnv(spec.env, text);
      if (!coerced.ok) {
        invalid.add(key);
        const expected = coerced.message || spec.expected;
        problems.push({ key, message: `expected ${expected}, got ${describe(text)}${origin}` });
        continue;
      }
      raw = coerced.value;
    }
    if (raw === undefined) {
      if (spec.required !== undefined) {
        problems.push({ key, message: `required: ${spec.required} (set it in the file or in ${envName(key)})` });
      }
      values[key] = (DEFAULTS as Partial<Record<ConfigKey, unknown>>)[key];
      continue;
    }
    const checked = spec.check(raw, describe);
    if (checked.ok) {
      values[key] = checked.value;
    } else {
      invalid.add(key);
      problems.push({ key, message: checked.message + origin });
    }
  }

  // Rules that span keys (DESIGN.md "Configuration" and "Join authorization semantics").
  // Supplied, not merely valid: naming both keys is right even when one of them is malformed.
  if (supplied.has("muc_http_auth_enabled_for") && supplied.has("muc_http_auth_disabled_for")) {
    problems.push({
      key: "muc_http_auth_enabled_for",
      message: "cannot be set together with muc_http_auth_disabled_for: set at most one of the two",
    });
  }
  const enabled = values.muc_http_auth_enabled_for as RoomsByHost | undefined;
  const authOffEverywhere = enabled !== undefined && Object.values(enabled).every((rooms) => rooms.length === 0);
  // An invalid enabled_for leaves it unknown whether auth is off everywhere: its own line says what is wrong.
  if (!supplied.has("muc_http_auth_url") && !authOffEverywhere && !invalid.has("muc_http_auth_enabled_for")) {
    problems.push({
      key: "muc_http_auth_url",
      message:
        "required: the authorization service's GET endpoint asked on every join " +
        "(it may be left out only when muc_http_auth_enabled_for is set and lists no room) " +
        `(set it in the file or in ${envName("muc_http_auth_url")})`,
    });
  }

  if (problems.length > 0) throw ConfigError.of(problems);
  // Sound: every value came out of its key's check (or DEFAULTS), and the maps are frozen already.
  return Object.freeze(values) as Config;
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
};

/**
 * Read the `--config` file (when one is given) and parse it with the
 * environment. Without a path the configuration comes from the environment
 * alone, which the contract allows.
 */
export function loadConfigFile(path: string | undefined, env: Readonly<Record<string, string | undefined>>): Config {
  if (path === undefined) return parseConfig({ env });
  let toml: string;
  try {
    toml = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = (code !== undefined && READ_ERRORS[code]) || (error instanceof Error ? error.message : String(error));
    throw new ConfigError("--config", `cannot read ${path}: ${reason}`);
  }
  return parseConfig({ toml, source: path, env });
}
