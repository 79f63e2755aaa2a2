/**
 * Configuration: one TOML file plus the environment, turned into one validated,
 * typed, deeply frozen `Config` (README "Configuration").
 *
 * - Keys are flat and keep Prosody's option names verbatim, so a Prosody admin
 *   can copy `mod_muc_http_auth` / `mod_http_muc_kick` settings across.
 * - Every key may also come from `MUCGATE_<KEY IN UPPER CASE>`; the environment
 *   wins over the file, key by key.
 * - Unknown keys, wrong types and missing required keys stop start-up. Every
 *   problem is reported at once, one line each, starting with the key's name,
 *   so an operator fixes a file in one round instead of one error per restart.
 *   Each key has one zod schema (`SCHEMAS`); zod's issues become those lines.
 * - Secrets (the component secret and both Authorization values) are never
 *   echoed in a message: messages end up in logs and CI output.
 *
 * Nothing here reads `process.env` or `process.argv`: `src/main.ts` passes the
 * environment in, which keeps this module pure and testable.
 */
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { closest } from "./edit-distance.ts";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { parseJid } from "./jid.ts";
import type { LogLevel } from "./log.ts";
import { parseStorageUrl, STORAGE_FORMS } from "./storage/storage-url.ts";

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
  /** `xmpp://host:port`, always with the port (5347 when the file leaves it out) and no trailing "/". */
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
  /** The room API's (/api) exact Authorization value; absent: http_muc_kick_authorization_header's. */
  readonly http_api_authorization_header: string | undefined;
  /** Where room events are POSTed (README "Events"); absent: no events. */
  readonly muc_events_url: string | undefined;
  /** Key of each event's HMAC-SHA256 signature; absent: unsigned. */
  readonly muc_events_secret: string | undefined;
  /** Most events waiting for delivery; the oldest is dropped when full. */
  readonly muc_events_queue_size: number;
  /** Seconds one delivery attempt may take. */
  readonly muc_events_timeout: number;
  /** Messages of discussion history kept per room (mucgate's addition to the contract), 0..1000. */
  readonly max_history_messages: number;
  /** Bytes of discussion history a room keeps and sends a newcomer, the newest whole messages; 0: no bound (mucgate's addition). */
  readonly max_history_bytes: number;
  readonly log_level: LogLevel;
  /** `memory`, `sqlite:<path>` or `postgres://…` as given (docs/storage.md); the form is checked, not the database. */
  readonly storage: string;
  /** A new room's settings (Prosody's option names). */
  readonly muc_room_default_persistent: boolean;
  readonly muc_room_default_public: boolean;
  readonly muc_room_default_change_subject: boolean;
  /** New rooms are moderated: newcomers without affiliation are visitors (XEP-0045 §10.2 moderatedroom). */
  readonly muc_room_default_moderated: boolean;
  /** ≤ max_history_messages. */
  readonly muc_room_default_history_length: number;
  /** An RFC 5646 language tag, or "" for none. */
  readonly muc_room_default_language: string;
  /** New rooms admit only members (XEP-0045 §7.2.5). */
  readonly muc_room_default_members_only: boolean;
  /** New rooms are non-anonymous: every occupant sees real JIDs (§10.2 whois anyone). */
  readonly muc_room_default_public_jids: boolean;
  /** Most occupants a room may be configured to hold; 0 for no cap. */
  readonly muc_max_occupants: number;
  /** The occupant limit (maxusers) new rooms start with, ≤ muc_max_occupants when that is set; 0: none of their own. */
  readonly muc_room_default_max_occupants: number;
  /** New rooms keep an archive (XEP-0313) unless their owner turns it off. */
  readonly muc_log_by_default: boolean;
  /** Every room keeps an archive, whatever its owner says. */
  readonly muc_log_all_rooms: boolean;
  /** Seconds an archived message is kept; `never` keeps them all. */
  readonly muc_log_expires_after: number | "never";
  /** Most messages one archive query returns. */
  readonly max_archive_query_results: number;
  /** SIGTERM saves the occupants and exits without telling them; the next start brings them back (mucgate's addition). */
  readonly muc_keep_occupants_on_restart: boolean;
  /** Occupant sessions checked a second after a restart or reconnect (mucgate's addition). */
  readonly muc_session_check_rate: number;
  /** Bytes: the largest stanza the XMPP server accepts on the component stream (Prosody's name and default). */
  readonly component_stanza_size_limit: number;
  /** Characters of a message body (Prosody mod_muc_limits' name). */
  readonly muc_max_char_count: number;
  /** Characters of a subject, a presence status and a stanza id (mucgate's additions). */
  readonly muc_max_subject_length: number;
  readonly muc_max_status_length: number;
  readonly muc_max_stanza_id_length: number;
  /** Characters of a room's name and description (ejabberd mod_muc's names). */
  readonly max_room_name: number;
  readonly max_room_desc: number;
  /** Stanzas one session may have waiting behind its pending entry to a room (mucgate's addition). */
  readonly muc_max_held_stanzas: number;
  /** Their bytes. */
  readonly muc_max_held_bytes: number;
  /** Seconds without a stanza from the server before an XEP-0199 ping on the component stream; 0: never (mucgate's addition). */
  readonly component_ping_interval: number;
  /** Seconds a ping waits for the server before the link is given up and reconnected. */
  readonly component_ping_timeout: number;
  /** New questions to the authorization service per user per minute (joins, nick changes); 0: no limit (mucgate's addition). */
  readonly muc_http_auth_max_requests_per_user: number;
  /** Messages and presences per second per occupant session (Prosody mod_muc_limits' name); 0: no limit. */
  readonly muc_event_rate: number;
  /** Bursts of up to muc_event_rate × this (Prosody mod_muc_limits' name). */
  readonly muc_burst_factor: number;
  /** Rooms one user (bare JID) may be an occupant of at once, creating included; 0: no limit (ejabberd mod_muc's name). */
  readonly max_user_conferences: number;
  /** Who may create rooms: anyone (false), service admins (true), or also users of the parent domain ("local") (Prosody's name). */
  readonly restrict_room_creation: boolean | "local";
  /** Service admins, bare JIDs normalised (Prosody's name): exempt from the limits above and from rooms' occupant limits. */
  readonly admins: readonly string[];
}

export type ConfigKey = keyof Config;

/** What `parseConfig` reads: TOML text (optional), its path for messages, and the environment. */
export interface ConfigInput {
  readonly toml?: string;
  /** The file the TOML came from; named in syntax errors and unknown-key messages. */
  readonly source?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Defaults of the keys that have one (README "Configuration"); the others are required or optional. */
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
  muc_events_queue_size: 10_000,
  muc_events_timeout: 5,
  max_history_messages: 20,
  max_history_bytes: 256 * 1024,
  log_level: "info",
  storage: "sqlite:mucgate.sqlite",
  muc_room_default_persistent: false,
  muc_room_default_public: true,
  muc_room_default_change_subject: false,
  muc_room_default_moderated: false,
  muc_room_default_history_length: 20,
  muc_room_default_language: "",
  muc_room_default_members_only: false,
  muc_room_default_public_jids: false,
  muc_max_occupants: 0,
  muc_room_default_max_occupants: 1000,
  muc_log_by_default: true,
  muc_log_all_rooms: false,
  muc_log_expires_after: 604_800,
  max_archive_query_results: 50,
  muc_keep_occupants_on_restart: true,
  muc_session_check_rate: 200,
  component_stanza_size_limit: 512 * 1024,
  muc_max_char_count: 65_536,
  muc_max_subject_length: 4096,
  muc_max_status_length: 1024,
  muc_max_stanza_id_length: 1024,
  max_room_name: 1024,
  max_room_desc: 4096,
  muc_max_held_stanzas: 100,
  muc_max_held_bytes: 1024 * 1024,
  component_ping_interval: 30,
  component_ping_timeout: 60,
  muc_http_auth_max_requests_per_user: 120,
  muc_event_rate: 0,
  muc_burst_factor: 6,
  max_user_conferences: 100,
  restrict_room_creation: false,
  admins: Object.freeze([]) as readonly string[],
} as const satisfies Partial<Config>);

export const ENV_PREFIX = "MUCGATE_";

/** The environment variable that overrides `key`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.toUpperCase();
}

// ---------------------------------------------------------------------------
// One zod schema per key

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

/**
 * The message of every issue a schema (or one of its checks) raises without
 * a message of its own: "expected <what>, got <the value>", or, for a
 * required key left out, why it is required. Secrets are described by type.
 */
function expecting(what: string, options: { secret?: boolean; required?: string } = {}) {
  return {
    error: (issue: { readonly input?: unknown }) =>
      issue.input === undefined && options.required !== undefined
        ? `required: ${options.required}`
        : `expected ${what}, got ${describeValue(issue.input, options.secret === true)}`,
  };
}

function isPlainTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // smol-toml builds null-prototype tables, JSON.parse ordinary ones.
  return proto === null || proto === Object.prototype;
}

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

/**
 * `{ host = ["room", …] }` as mod_muc_http_auth takes it. Hosts are user
 * domains or `all`; rooms are room nodes. Both are compared against normalised
 * JIDs at join time, so they are lower-cased here once, and duplicates that
 * differ only in case merge. Every bad entry is named, in one message.
 * (Not z.record, which would silently drop a host named "__proto__".)
 */
const roomsByHost = z
  .custom<Record<string, unknown>>(
    isPlainTable,
    expecting('a table of host → array of room names, e.g. { all = ["lobby"], "example.org" = ["staff"] }'),
  )
  .transform((table, ctx): RoomsByHost => {
    const describe = (value: unknown) => describeValue(value, false);
    const hosts = new Map<string, string[]>();
    const problems: string[] = [];
    for (const [hostKey, rooms] of Object.entries(table)) {
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
    if (problems.length > 0) ctx.addIssue({ code: "custom", message: problems.join("; ") });
    return Object.freeze(Object.fromEntries([...hosts].map(([host, nodes]) => [host, Object.freeze(nodes)])));
  });

/**
 * A list of bare JIDs (`admins`, as Prosody's `admins = { "admin@example.org" }`),
 * normalised, duplicates merged. Every bad entry is named, in one message.
 */
const bareJids = z
  .array(z.unknown(), expecting('an array of bare JIDs, e.g. ["admin@example.org"]'))
  .transform((list, ctx): readonly string[] => {
    const jids: string[] = [];
    const problems: string[] = [];
    for (const entry of list) {
      const jid = typeof entry === "string" ? parseJid(entry) : undefined;
      if (jid === undefined || jid.local === "" || (entry as string).includes("/")) {
        problems.push(`${describeValue(entry, false)} is not a bare JID such as "admin@example.org"`);
      } else if (!jids.includes(jid.bare)) {
        jids.push(jid.bare);
      }
    }
    if (problems.length > 0) ctx.addIssue({ code: "custom", message: problems.join("; ") });
    return Object.freeze(jids);
  });

/**
 * An HTTP header value we can send or compare, never echoed: Latin-1 without
 * control characters (a line break would split the header; fetch rejects
 * others), and no surrounding whitespace, which HTTP strips, so a kick
 * carrying the configured value could never match it.
 */
function headerValue(what: string, required?: string) {
  return z
    .string(expecting(what, { secret: true, required }))
    .min(1)
    .refine((value) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(value), "must not contain control characters or line breaks")
    .refine((value) => !/[^\x00-\xff]/.test(value), "must contain only Latin-1 characters (HTTP header values are bytes)")
    .refine((value) => value.trim() === value, "must not start or end with whitespace (HTTP strips it)");
}

// `xmpp://host[:port]`, host a name, IPv4 or bracketed IPv6; a trailing "/" is tolerated.
const XMPP_SERVICE = /^xmpp:\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?\/?$/;

function isXmppService(text: string): boolean {
  const match = XMPP_SERVICE.exec(text);
  const port = match?.[1] === undefined ? 5347 : Number(match[1]);
  return match !== null && port >= 1 && port <= 65535;
}

/** `xmpp://host:port` exactly: the trailing "/" gone, the default port written out. */
function canonicalXmppService(text: string): string {
  const bare = text.endsWith("/") ? text.slice(0, -1) : text;
  return XMPP_SERVICE.exec(text)![1] === undefined ? `${bare}:5347` : bare;
}

/** The query parameters mucgate appends to muc_http_auth_url (README "Join authorization"). */
const AUTH_QUERY_PARAMETERS = ["userJID", "mucJID", "nickname"] as const;

function carriedAuthParameter(text: string): string | undefined {
  const params = URL.parse(text)?.searchParams;
  return AUTH_QUERY_PARAMETERS.find((name) => params?.has(name));
}


/** RFC 5646 in its common shape: a primary tag and subtags. */
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/;

const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error"] satisfies LogLevel[];

const seconds = z.number(expecting("a number of seconds >= 0 (0 = do not cache)")).min(0);
const atLeastOne = z.number(expecting("an integer >= 1")).int().min(1); // .int() also keeps it a safe integer
const characters = z.number(expecting("a number of characters, an integer from 1 to 1048576")).int().min(1).max(1024 * 1024);

/**
 * Every key, in the contract's order, with its schema. A key without
 * `.optional()` or `.default()` is required. Where a check has no message of
 * its own, the schema's `expecting` one applies. `satisfies` makes the
 * compiler insist that each `Config` key has a schema whose output fits it.
 */
const SCHEMAS = {
  component_jid: z
    .string(
      expecting("a domain JID such as rooms.example.org (no user@, no /resource)", {
        required: "the MUC service's domain, e.g. rooms.example.org",
      }),
    )
    .refine((text) => domainOf(text) !== undefined)
    .transform((text) => domainOf(text)!),
  component_secret: z
    .string(
      expecting("a non-empty string", {
        secret: true,
        required: "the component secret configured for this domain in the XMPP server",
      }),
    )
    .min(1),
  component_service: z
    .string(expecting("xmpp://host:port"))
    .min(1)
    .refine(isXmppService, expecting("xmpp://host:port (port 1..65535, 5347 when left out)"))
    .transform(canonicalXmppService)
    .default(DEFAULTS.component_service),
  http_interface: z
    .string(expecting("a non-empty string (an address to listen on, e.g. 127.0.0.1)"))
    .min(1)
    .default(DEFAULTS.http_interface),
  http_port: z.number(expecting("an integer from 1 to 65535")).int().min(1).max(65535).default(DEFAULTS.http_port),
  // Its messages do not echo it: the URL may carry a token in its query or user part.
  muc_http_auth_url: z
    .string(expecting("an absolute http:// or https:// URL"))
    .min(1)
    .regex(/^https?:\/\//i, "expected an absolute URL starting with http:// or https://")
    .refine((text) => URL.canParse(text), "is not a valid absolute http(s) URL")
    .refine((text) => URL.parse(text)?.hostname !== "", "is not a valid absolute http(s) URL: it has no host")
    // mucgate appends ?userJID=…&mucJID=…&nickname=…; after a fragment they would never be sent.
    .refine((text) => !text.includes("#"), "must not contain a #fragment (the query parameters are appended to the URL)")
    .refine(
      (text) => carriedAuthParameter(text) === undefined,
      "must not already carry a userJID, mucJID or nickname query parameter (mucgate appends them to the URL)",
    )
    .optional(),
  muc_http_auth_enabled_for: roomsByHost.optional(),
  muc_http_auth_disabled_for: roomsByHost.optional(),
  muc_http_auth_insecure: z.boolean(expecting("true or false")).default(DEFAULTS.muc_http_auth_insecure),
  muc_http_auth_authorization_header: headerValue("a non-empty string (the Authorization header value)").optional(),
  muc_http_auth_authorize_registration: z.boolean(expecting("true or false")).default(DEFAULTS.muc_http_auth_authorize_registration),
  muc_http_auth_cache_ttl: seconds.default(DEFAULTS.muc_http_auth_cache_ttl),
  muc_http_auth_negative_cache_ttl: seconds.default(DEFAULTS.muc_http_auth_negative_cache_ttl),
  muc_http_auth_cache_size: atLeastOne.default(DEFAULTS.muc_http_auth_cache_size),
  muc_http_auth_timeout: z
    .number(expecting("a number of seconds > 0 and <= 3600"))
    .gt(0)
    .max(3600)
    .default(DEFAULTS.muc_http_auth_timeout),
  muc_http_auth_max_concurrency: atLeastOne.default(DEFAULTS.muc_http_auth_max_concurrency),
  http_muc_kick_authorization_header: headerValue(
    "a non-empty string (the exact Authorization value every kick must carry)",
    "mucgate does not start without it, so that the kick API is never open to anyone; " +
      "set the exact Authorization value every POST /muc_kick must carry",
  ),
  http_api_authorization_header: headerValue("a non-empty string (the exact Authorization value every room API call must carry)").optional(),
  // Its messages do not echo it: the URL may carry a token.
  muc_events_url: z
    .string(expecting("an absolute http:// or https:// URL"))
    .regex(/^https?:\/\//i, "expected an absolute URL starting with http:// or https://")
    .refine((text) => URL.canParse(text) && URL.parse(text)?.hostname !== "", "is not a valid absolute http(s) URL")
    .optional(),
  muc_events_secret: z.string(expecting("a non-empty string (the key of the events' HMAC-SHA256 signature)", { secret: true })).min(1).optional(),
  muc_events_queue_size: z.number(expecting("an integer from 1 to 10000000")).int().min(1).max(10_000_000).default(DEFAULTS.muc_events_queue_size),
  muc_events_timeout: z.number(expecting("a number of seconds > 0 and <= 3600")).gt(0).max(3600).default(DEFAULTS.muc_events_timeout),
  max_history_messages: z.number(expecting("an integer from 0 to 1000")).int().min(0).max(1000).default(DEFAULTS.max_history_messages),
  max_history_bytes: z
    .number(expecting("a number of bytes, an integer from 0 (no bound) to 1073741824"))
    .int()
    .min(0)
    .max(1024 ** 3)
    .default(DEFAULTS.max_history_bytes),
  // Any case is accepted (MUCGATE_LOG_LEVEL=INFO is common) and stored lower case, as pino wants it.
  log_level: z
    .string(expecting("one of debug, info, warn, error"))
    .refine((text) => LOG_LEVELS.includes(text.toLowerCase()))
    .transform((text) => text.toLowerCase() as LogLevel)
    .default(DEFAULTS.log_level),
  // Described, never quoted: a PostgreSQL URL carries a password.
  storage: z
    .string(expecting(STORAGE_FORMS, { secret: true }))
    .superRefine((text, ctx) => {
      const target = parseStorageUrl(text);
      if (typeof target === "string") ctx.addIssue({ code: "custom", message: target });
    })
    .default(DEFAULTS.storage),
  muc_room_default_persistent: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_persistent),
  muc_room_default_public: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_public),
  muc_room_default_change_subject: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_change_subject),
  muc_room_default_moderated: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_moderated),
  muc_room_default_history_length: z
    .number(expecting("an integer from 0 to 1000"))
    .int()
    .min(0)
    .max(1000)
    .default(DEFAULTS.muc_room_default_history_length),
  muc_room_default_language: z
    .string(expecting('a language tag such as "en" or "pt-BR", or "" for none'))
    .refine((text) => text === "" || LANGUAGE_TAG.test(text))
    .default(DEFAULTS.muc_room_default_language),
  muc_room_default_members_only: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_members_only),
  muc_room_default_public_jids: z.boolean(expecting("true or false")).default(DEFAULTS.muc_room_default_public_jids),
  muc_max_occupants: z.number(expecting("an integer from 0 (no cap) to 1000000")).int().min(0).max(1_000_000).default(DEFAULTS.muc_max_occupants),
  // Left out, it is the default or muc_max_occupants when that is lower (parseConfig).
  muc_room_default_max_occupants: z
    .number(expecting("an integer from 0 (no limit of their own) to 1000000"))
    .int()
    .min(0)
    .max(1_000_000)
    .default(DEFAULTS.muc_room_default_max_occupants),
  muc_log_by_default: z.boolean(expecting("true or false")).default(DEFAULTS.muc_log_by_default),
  muc_log_all_rooms: z.boolean(expecting("true or false")).default(DEFAULTS.muc_log_all_rooms),
  muc_log_expires_after: z
    .union([z.number().gt(0).max(100 * 365 * 86_400), z.literal("never")], expecting('a number of seconds > 0, or "never"'))
    .default(DEFAULTS.muc_log_expires_after),
  max_archive_query_results: z.number(expecting("an integer from 1 to 10000")).int().min(1).max(10_000).default(DEFAULTS.max_archive_query_results),
  muc_keep_occupants_on_restart: z.boolean(expecting("true or false")).default(DEFAULTS.muc_keep_occupants_on_restart),
  muc_session_check_rate: z.number(expecting("a number of checks a second > 0")).gt(0).max(1_000_000).default(DEFAULTS.muc_session_check_rate),
  // Above the room's own additions to a relayed stanza (src/xmpp/stanza-limits.ts ROOM_ADDITIONS).
  component_stanza_size_limit: z
    .number(expecting("a number of bytes, an integer from 32768 to 1073741824"))
    .int()
    .min(32_768)
    .max(1024 ** 3)
    .default(DEFAULTS.component_stanza_size_limit),
  muc_max_char_count: characters.default(DEFAULTS.muc_max_char_count),
  muc_max_subject_length: characters.default(DEFAULTS.muc_max_subject_length),
  muc_max_status_length: characters.default(DEFAULTS.muc_max_status_length),
  muc_max_stanza_id_length: characters.default(DEFAULTS.muc_max_stanza_id_length),
  max_room_name: characters.default(DEFAULTS.max_room_name),
  max_room_desc: characters.default(DEFAULTS.max_room_desc),
  muc_max_held_stanzas: z.number(expecting("an integer from 1 to 100000")).int().min(1).max(100_000).default(DEFAULTS.muc_max_held_stanzas),
  muc_max_held_bytes: z.number(expecting("a number of bytes, an integer from 1024 to 1073741824")).int().min(1024).max(1024 ** 3).default(DEFAULTS.muc_max_held_bytes),
  component_ping_interval: z.number(expecting("a number of seconds >= 0 (0 = no pings)")).min(0).max(86_400).default(DEFAULTS.component_ping_interval),
  component_ping_timeout: z.number(expecting("a number of seconds > 0")).gt(0).max(3600).default(DEFAULTS.component_ping_timeout),
  muc_http_auth_max_requests_per_user: z.number(expecting("an integer >= 0 (0 = no limit)")).int().min(0).max(1_000_000).default(DEFAULTS.muc_http_auth_max_requests_per_user),
  muc_event_rate: z.number(expecting("a number of events a second >= 0 (0 = no limit)")).min(0).max(1_000_000).default(DEFAULTS.muc_event_rate),
  muc_burst_factor: z.number(expecting("a number >= 1")).min(1).max(1_000_000).default(DEFAULTS.muc_burst_factor),
  max_user_conferences: z.number(expecting("an integer >= 0 (0 = no limit)")).int().min(0).max(1_000_000).default(DEFAULTS.max_user_conferences),
  restrict_room_creation: z
    .union([z.boolean(), z.literal("local")], expecting('true (service admins only), false (anyone) or "local" (also users of the parent domain)'))
    .default(DEFAULTS.restrict_room_creation),
  admins: bareJids.default(DEFAULTS.admins),
} satisfies { readonly [K in ConfigKey]-?: z.ZodType<Config[K]> };

/** The whole configuration: strict, so a key it does not know is an issue too. */
const CONFIG_SCHEMA = z.strictObject(SCHEMAS);

/** Every configuration key, in the contract's order. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze(Object.keys(SCHEMAS) as ConfigKey[]);

function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(SCHEMAS, key);
}

// ---------------------------------------------------------------------------
// Environment strings → values

/** How an environment string becomes a value of the key's TOML type; other keys take it as it is. */
const ENV_TYPES: Partial<Record<ConfigKey, "number" | "boolean" | "rooms" | "jids" | "creation">> = {
  http_port: "number",
  muc_http_auth_enabled_for: "rooms",
  muc_http_auth_disabled_for: "rooms",
  muc_http_auth_insecure: "boolean",
  muc_http_auth_authorize_registration: "boolean",
  muc_http_auth_cache_ttl: "number",
  muc_http_auth_negative_cache_ttl: "number",
  muc_http_auth_cache_size: "number",
  muc_http_auth_timeout: "number",
  muc_http_auth_max_concurrency: "number",
  muc_events_queue_size: "number",
  muc_events_timeout: "number",
  max_history_messages: "number",
  max_history_bytes: "number",
  muc_room_default_persistent: "boolean",
  muc_room_default_public: "boolean",
  muc_room_default_change_subject: "boolean",
  muc_room_default_moderated: "boolean",
  muc_room_default_history_length: "number",
  muc_room_default_members_only: "boolean",
  muc_room_default_public_jids: "boolean",
  muc_max_occupants: "number",
  muc_room_default_max_occupants: "number",
  muc_log_by_default: "boolean",
  muc_log_all_rooms: "boolean",
  muc_log_expires_after: "number",
  max_archive_query_results: "number",
  muc_keep_occupants_on_restart: "boolean",
  muc_session_check_rate: "number",
  component_stanza_size_limit: "number",
  muc_max_char_count: "number",
  muc_max_subject_length: "number",
  muc_max_status_length: "number",
  muc_max_stanza_id_length: "number",
  max_room_name: "number",
  max_room_desc: "number",
  muc_max_held_stanzas: "number",
  muc_max_held_bytes: "number",
  component_ping_interval: "number",
  component_ping_timeout: "number",
  muc_http_auth_max_requests_per_user: "number",
  muc_event_rate: "number",
  muc_burst_factor: "number",
  max_user_conferences: "number",
  restrict_room_creation: "creation",
  admins: "jids",
};

// Decimal only: "12abc", "0x10", "" and "Infinity" are not numbers here.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, yes: true, "1": true, false: false, no: false, "0": false };

type FromEnv = { readonly value: unknown } | { readonly expected: string };

/**
 * Coerce an environment string to the key's TOML type, so that the key's
 * schema then judges it exactly as a file value: same rules, same messages.
 * Text that is no decimal number stays text, which a number schema refuses;
 * a boolean or room map that cannot be read is refused here, with what the
 * text should have looked like.
 */
function fromEnv(key: ConfigKey, text: string): FromEnv {
  switch (ENV_TYPES[key]) {
    case undefined:
      return { value: text };
    case "number": {
      const trimmed = text.trim();
      return { value: DECIMAL.test(trimmed) ? Number(trimmed) : text };
    }
    case "boolean": {
      const value = BOOLEANS[text.trim().toLowerCase()];
      return value === undefined ? { expected: "true, false, yes, no, 1 or 0" } : { value };
    }
    case "rooms":
      return roomsFromEnv(text);
    case "creation": {
      const trimmed = text.trim().toLowerCase();
      const value = trimmed === "local" ? "local" : BOOLEANS[trimmed];
      return value === undefined ? { expected: 'true, false, yes, no, 1, 0 or "local"' } : { value };
    }
    case "jids":
      return jidsFromEnv(text);
  }
}

/** A JID list from the environment: JSON or a TOML array (`["a@example.org"]`), or the JIDs separated by commas. */
function jidsFromEnv(text: string): FromEnv {
  if (!text.trim().startsWith("[")) return { value: text.split(",").map((jid) => jid.trim()).filter((jid) => jid !== "") };
  return structuredFromEnv(text, 'JIDs separated by commas, or an array like ["admin@example.org"]');
}

/** A map from the environment: JSON (`{"all":["room"]}`) or a TOML inline table (`{ all = ["room"] }`). */
function roomsFromEnv(text: string): FromEnv {
  return structuredFromEnv(text, 'JSON like {"all":["room"]} or a TOML inline table like { all = ["room"] }');
}

/** One JSON value, or one TOML value (array, inline table); else `expected`. */
function structuredFromEnv(text: string, expected: string): FromEnv {
  try {
    return { value: JSON.parse(text) };
  } catch {
    // Not JSON; try TOML below.
  }
  try {
    const doc = parseToml(`value = ${text}`);
    // More than one key means the text smuggled extra lines in: not one value.
    if (Object.keys(doc).length === 1) return { value: doc.value };
  } catch {
    // Neither; reported below.
  }
  return { expected };
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
  const values: Record<string, unknown> = { ...readToml(input.toml, input.source) };
  const unknownVariables: ConfigProblem[] = [];
  const fromEnvironment = new Set<ConfigKey>();
  const unreadable = new Map<ConfigKey, string>();
  for (const [name, text] of Object.entries(input.env ?? {})) {
    if (text === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const key = name.slice(ENV_PREFIX.length).toLowerCase();
    if (!isConfigKey(key) || name !== envName(key)) {
      const hint = closest(name.slice(ENV_PREFIX.length), CONFIG_KEYS, 3);
      unknownVariables.push({
        key: showKey(name),
        message: `unknown environment variable: mucgate reads ${ENV_PREFIX}<KEY> only for its configuration keys${didYouMean(hint && envName(hint))}`,
      });
      continue;
    }
    fromEnvironment.add(key);
    const coerced = fromEnv(key, text);
    if ("value" in coerced) {
      values[key] = coerced.value;
    } else {
      values[key] = text; // still supplied, for the rules that span keys
      unreadable.set(key, `expected ${coerced.expected}, got ${describeValue(text, false)}`);
    }
  }

  const result = CONFIG_SCHEMA.safeParse(values);
  const issues = result.error?.issues ?? [];
  const problems: ConfigProblem[] = [];
  // Unknown names first: a misspelt key usually explains a "required" below it.
  const where = input.source === undefined ? "" : ` in ${input.source}`;
  for (const key of issues.flatMap((issue) => (issue.code === "unrecognized_keys" ? issue.keys : []))) {
    problems.push({ key: showKey(key), message: `unknown key${where}${didYouMean(closest(key, CONFIG_KEYS, 3))}` });
  }
  problems.push(...unknownVariables);
  // One line per key: the first issue zod found with it (a fraction below the minimum is two).
  const invalid = new Set<ConfigKey>();
  for (const key of CONFIG_KEYS) {
    const message = unreadable.get(key) ?? issues.find((issue) => issue.path[0] === key)?.message;
    if (message === undefined) continue;
    invalid.add(key);
    const whence = fromEnvironment.has(key)
      ? ` (from ${envName(key)})`
      : values[key] === undefined
        ? ` (set it in the file or in ${envName(key)})`
        : "";
    problems.push({ key, message: message + whence });
  }

  // Rules that span keys (README "Configuration" and "Join authorization").
  // Supplied, not merely valid: naming both keys is right even when one of them is malformed.
  const enabled = values.muc_http_auth_enabled_for;
  if (enabled !== undefined && values.muc_http_auth_disabled_for !== undefined) {
    problems.push({
      key: "muc_http_auth_enabled_for",
      message: "cannot be set together with muc_http_auth_disabled_for: set at most one of the two",
    });
  }
  // An invalid enabled_for leaves it unknown whether auth is off everywhere: its own line says what is wrong.
  // A valid one (a table of arrays, each empty exactly when its normalised list is) may turn it off.
  const authOffEverywhere = (rooms: unknown) =>
    rooms !== undefined && Object.values(rooms as Record<string, unknown[]>).every((nodes) => nodes.length === 0);
  if (
    values.muc_http_auth_url === undefined &&
    !invalid.has("muc_http_auth_enabled_for") &&
    !authOffEverywhere(enabled)
  ) {
    problems.push({
      key: "muc_http_auth_url",
      message:
        "required: the authorization service's GET endpoint asked on every join " +
        "(it may be left out only when muc_http_auth_enabled_for is set and lists no room) " +
        `(set it in the file or in ${envName("muc_http_auth_url")})`,
    });
  }

  const historyLength = values.muc_room_default_history_length ?? DEFAULTS.muc_room_default_history_length;
  const historyCap = values.max_history_messages ?? DEFAULTS.max_history_messages;
  if (
    !invalid.has("muc_room_default_history_length") &&
    !invalid.has("max_history_messages") &&
    typeof historyLength === "number" &&
    typeof historyCap === "number" &&
    historyLength > historyCap
  ) {
    problems.push({
      key: "muc_room_default_history_length",
      message: `must not exceed max_history_messages (${historyCap}), the most a room may keep`,
    });
  }

  const roomMax = values.muc_room_default_max_occupants;
  const occupantCap = values.muc_max_occupants ?? DEFAULTS.muc_max_occupants;
  if (
    !invalid.has("muc_room_default_max_occupants") &&
    !invalid.has("muc_max_occupants") &&
    typeof roomMax === "number" &&
    typeof occupantCap === "number" &&
    occupantCap > 0 &&
    roomMax > occupantCap
  ) {
    problems.push({
      key: "muc_room_default_max_occupants",
      message: `must not exceed muc_max_occupants (${occupantCap}), the most a room may hold`,
    });
  }

  if (!result.success || problems.length > 0) throw ConfigError.of(problems);
  // Every key in the contract's order, the unset optional ones as undefined; the room maps are frozen already.
  const config: Partial<Record<ConfigKey, unknown>> = Object.fromEntries(CONFIG_KEYS.map((key) => [key, result.data[key]]));
  // Left out under a lower cap, new rooms start at the cap (as they did before this key existed).
  if (roomMax === undefined && result.data.muc_max_occupants > 0) {
    config.muc_room_default_max_occupants = Math.min(DEFAULTS.muc_room_default_max_occupants, result.data.muc_max_occupants);
  }
  return Object.freeze(config) as Config;
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
