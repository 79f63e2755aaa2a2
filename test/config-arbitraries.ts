/**
 * fast-check generators of valid configuration values, already in the
 * normalised form `parseConfig` returns (lower-case domains and room nodes, no
 * duplicate rooms), so a property can compare output to input directly.
 */
import fc from "fast-check";
import type { Config, ConfigKey, RoomsByHost } from "../src/config.ts";

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
export const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join("."));
const roomNode = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/);
const port = fc.integer({ min: 1, max: 65535 });

export const rooms: fc.Arbitrary<RoomsByHost> = fc.dictionary(
  fc.oneof(fc.constant("all"), domain),
  fc.uniqueArray(roomNode, { maxLength: 4 }),
  { maxKeys: 4 },
);

/** Every host listed with no room: authorization off for every room. */
const noRooms: fc.Arbitrary<RoomsByHost> = fc.dictionary(fc.oneof(fc.constant("all"), domain), fc.constant([]), {
  maxKeys: 3,
});

/** A header value HTTP carries unchanged: printable ASCII, no surrounding spaces. */
const headerValue = fc.stringMatching(/^[!-~](?:[ -~]{0,30}[!-~])?$/);

// -0 is a valid "0 seconds" but not equal to 0 under toEqual; the generators avoid it.
const seconds = (min: number, max: number, minExcluded: boolean) =>
  fc.double({ min, max, minExcluded, noNaN: true }).map((n) => (n === 0 ? 0 : n));

/** A valid value for each key that holds one in every config. */
export const VALUE: { readonly [K in ConfigKey]-?: fc.Arbitrary<Exclude<Config[K], undefined>> } = {
  component_jid: domain,
  component_secret: fc.string({ unit: "grapheme", minLength: 1 }),
  component_service: fc
    // As parsed: the port always written out (the file may leave it out: test/config.test.ts).
    .tuple(fc.oneof(domain, fc.constant("127.0.0.1"), fc.constant("[::1]")), port)
    .map(([host, p]) => `xmpp://${host}:${p}`),
  http_interface: fc.string({ minLength: 1 }),
  http_port: port,
  muc_http_auth_url: fc
    .webUrl({ validSchemes: ["http", "https"], withQueryParameters: true })
    .filter((url) => !["userJID", "mucJID", "nickname"].some((name) => URL.parse(url)?.searchParams.has(name))),
  muc_http_auth_enabled_for: rooms,
  muc_http_auth_disabled_for: rooms,
  muc_http_auth_insecure: fc.boolean(),
  muc_http_auth_authorization_header: headerValue,
  muc_http_auth_authorize_registration: fc.boolean(),
  muc_http_auth_cache_ttl: seconds(0, 1e9, false),
  muc_http_auth_negative_cache_ttl: seconds(0, 1e9, false),
  muc_http_auth_cache_size: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  muc_http_auth_timeout: seconds(0, 3600, true),
  muc_http_auth_max_concurrency: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  http_muc_kick_authorization_header: headerValue,
  http_api_authorization_header: headerValue,
  muc_events_url: fc.webUrl({ validSchemes: ["http", "https"], withQueryParameters: true }),
  muc_events_secret: fc.string({ minLength: 1 }),
  muc_events_queue_size: fc.integer({ min: 1, max: 10_000_000 }),
  muc_events_timeout: seconds(0, 3600, true),
  // The two history keys are independent as long as the default length stays within the cap (a rule across keys).
  max_history_messages: fc.integer({ min: 20, max: 1000 }),
  max_history_bytes: fc.integer({ min: 0, max: 1024 ** 3 }),
  log_level: fc.constantFrom("debug", "info", "warn", "error"),
  storage: fc.oneof(
    fc.constant("memory"),
    fc.stringMatching(/^[A-Za-z0-9_./-]{1,30}$/).map((path) => `sqlite:${path}`),
    fc
      .tuple(fc.constantFrom("postgres", "postgresql"), label, headerValue, domain, fc.option(port, { nil: undefined }), label)
      .map(([scheme, user, password, host, p, db]) =>
        `${scheme}://${user}:${encodeURIComponent(password)}@${host}${p === undefined ? "" : `:${p}`}/${db}`,
      ),
  ),
  muc_room_default_persistent: fc.boolean(),
  muc_room_default_public: fc.boolean(),
  muc_room_default_moderated: fc.boolean(),
  muc_room_default_change_subject: fc.boolean(),
  muc_room_default_history_length: fc.integer({ min: 0, max: 20 }),
  muc_room_default_language: fc.constantFrom("", "en", "de-CH", "pt-BR", "zh-Hant-TW"),
  muc_room_default_members_only: fc.boolean(),
  muc_room_default_public_jids: fc.boolean(),
  // The two occupant keys are independent as long as the room default stays within the cap (a rule across keys);
  // a cap below the default's default changes it (test/config.test.ts), so none here.
  muc_max_occupants: fc.oneof(fc.constant(0), fc.integer({ min: 1000, max: 1_000_000 })),
  muc_room_default_max_occupants: fc.integer({ min: 0, max: 1000 }),
  muc_log_by_default: fc.boolean(),
  muc_log_all_rooms: fc.boolean(),
  muc_log_expires_after: fc.oneof(fc.constant("never" as const), fc.integer({ min: 1, max: 10 * 365 * 86_400 })),
  max_archive_query_results: fc.integer({ min: 1, max: 10_000 }),
  muc_keep_occupants_on_restart: fc.boolean(),
  muc_session_check_rate: fc.integer({ min: 1, max: 100_000 }),
  component_stanza_size_limit: fc.integer({ min: 32_768, max: 1024 ** 3 }),
  muc_max_char_count: fc.integer({ min: 1, max: 1024 * 1024 }),
  muc_max_subject_length: fc.integer({ min: 1, max: 1024 * 1024 }),
  muc_max_status_length: fc.integer({ min: 1, max: 1024 * 1024 }),
  muc_max_stanza_id_length: fc.integer({ min: 1, max: 1024 * 1024 }),
  max_room_name: fc.integer({ min: 1, max: 1024 * 1024 }),
  max_room_desc: fc.integer({ min: 1, max: 1024 * 1024 }),
  muc_max_held_stanzas: fc.integer({ min: 1, max: 100_000 }),
  muc_max_held_bytes: fc.integer({ min: 1024, max: 1024 ** 3 }),
  component_ping_interval: fc.integer({ min: 0, max: 86_400 }),
  component_ping_timeout: fc.integer({ min: 1, max: 3600 }),
  muc_http_auth_max_requests_per_user: fc.integer({ min: 0, max: 1_000_000 }),
  muc_event_rate: fc.integer({ min: 0, max: 1000 }),
  muc_burst_factor: fc.integer({ min: 1, max: 1000 }),
  max_user_conferences: fc.integer({ min: 0, max: 1_000_000 }),
  restrict_room_creation: fc.constantFrom(false, true, "local" as const),
  admins: fc.uniqueArray(fc.tuple(label, domain).map(([user, host]) => `${user}@${host}`), { maxLength: 4 }),
};

const REQUIRED = ["component_jid", "component_secret", "http_muc_kick_authorization_header"] as const;
const { muc_http_auth_url, muc_http_auth_enabled_for, muc_http_auth_disabled_for, ...others } = VALUE;

/**
 * A valid configuration as it would be written in a file: required keys
 * always, others sometimes (to exercise defaults), at most one room map, and
 * the auth URL unless the enabled map lists no room.
 */
export const validFile: fc.Arbitrary<Partial<Config>> = fc.oneof(
  fc
    .tuple(
      fc.record({ ...others, muc_http_auth_url }, { requiredKeys: [...REQUIRED, "muc_http_auth_url"] }),
      fc.oneof(
        fc.constant({}),
        rooms.map((m) => ({ muc_http_auth_enabled_for: m })),
        rooms.map((m) => ({ muc_http_auth_disabled_for: m })),
      ),
    )
    .map(([base, maps]) => ({ ...base, ...maps })),
  fc
    .tuple(fc.record(others, { requiredKeys: [...REQUIRED] }), noRooms)
    .map(([base, m]) => ({ ...base, muc_http_auth_enabled_for: m })),
);

/** How a value is written in a `MUCGATE_*` variable; booleans and maps have several spellings. */
export function envSpellings(value: unknown): fc.Arbitrary<string> {
  if (typeof value === "boolean") {
    return fc.constantFrom(...(value ? ["true", "TRUE", "yes", "1"] : ["false", "False", "no", "0"]));
  }
  if (typeof value === "number") return fc.constant(String(value));
  if (typeof value === "string") return fc.constant(value);
  if (Array.isArray(value)) {
    const jids = value as readonly string[];
    const spellings = [JSON.stringify(jids), `[${jids.map((j) => JSON.stringify(j)).join(", ")}]`];
    // Separated by commas only when that is not empty text meaning nothing.
    if (jids.length > 0) spellings.push(jids.join(","), jids.join(" , "));
    return fc.constantFrom(...spellings);
  }
  const map = value as RoomsByHost;
  const inline = `{ ${Object.entries(map)
    .map(([host, nodes]) => `${JSON.stringify(host)} = [${nodes.map((n) => JSON.stringify(n)).join(", ")}]`)
    .join(", ")} }`;
  return fc.constantFrom(JSON.stringify(map), inline);
}
