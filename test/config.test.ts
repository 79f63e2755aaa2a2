import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_KEYS, DEFAULTS, envName, loadConfigFile, parseConfig, type ConfigInput } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

/** The smallest file mucgate starts with. */
const MINIMAL = `
component_jid = "rooms.example.org"
component_secret = "component-secret"
http_muc_kick_authorization_header = "Bearer kick-token"
muc_http_auth_url = "https://auth.example.org/check"
`;

/** The ConfigError `parseConfig` throws, or a failure when it throws none. */
function configError(input: ConfigInput): ConfigError {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

/** The report's line about `key` (each line starts with its key). */
function lineFor(error: ConfigError, key: string): string {
  const line = error.message.split("\n").find((l) => l.startsWith(`${key}: `));
  if (line === undefined) throw new Error(`no line for ${key} in:\n${error.message}`);
  return line;
}

describe("defaults", () => {
  test("every key with a default gets it when neither file nor environment sets it", () => {
    const config = parseConfig({ toml: MINIMAL });
    for (const [key, value] of Object.entries(DEFAULTS)) {
      expect(config[key as keyof typeof DEFAULTS]).toEqual(value);
    }
  });

  test("the defaults are the contract's", () => {
    expect(DEFAULTS).toEqual({
      component_service: "xmpp://127.0.0.1:5347",
      http_interface: "127.0.0.1",
      http_port: 5380,
      muc_http_auth_insecure: false,
      muc_http_auth_authorize_registration: false,
      muc_http_auth_cache_ttl: 30,
      muc_http_auth_negative_cache_ttl: 5,
      muc_http_auth_cache_size: 100000,
      muc_http_auth_timeout: 5,
      muc_http_auth_max_concurrency: 64,
      muc_events_queue_size: 10000,
      muc_events_timeout: 5,
      max_history_messages: 20,
      max_history_bytes: 262144,
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
      muc_log_expires_after: 604800,
      max_archive_query_results: 50,
      muc_keep_occupants_on_restart: true,
      muc_session_check_rate: 200,
      component_stanza_size_limit: 524288,
      muc_max_char_count: 65536,
      muc_max_subject_length: 4096,
      muc_max_status_length: 1024,
      muc_max_stanza_id_length: 1024,
      max_room_name: 1024,
      max_room_desc: 4096,
      muc_max_held_stanzas: 100,
      muc_max_held_bytes: 1048576,
      component_ping_interval: 30,
      component_ping_timeout: 60,
      muc_http_auth_max_requests_per_user: 120,
      muc_event_rate: 0,
      muc_burst_factor: 6,
      max_user_conferences: 100,
      restrict_room_creation: false,
      admins: [],
    });
  });

  test("a room's default history length may not exceed what a room may keep", () => {
    const line = lineFor(configError({ toml: `${MINIMAL}
max_history_messages = 10
muc_room_default_history_length = 11` }), "muc_room_default_history_length");
    expect(line).toContain("max_history_messages (10)");
    expect(parseConfig({ toml: `${MINIMAL}
max_history_messages = 10
muc_room_default_history_length = 10` }).muc_room_default_history_length).toBe(10);
  });

  test('archive retention is seconds or "never"', () => {
    expect(parseConfig({ toml: `${MINIMAL}
muc_log_expires_after = "never"` }).muc_log_expires_after).toBe("never");
    expect(parseConfig({ toml: MINIMAL, env: { MUCGATE_MUC_LOG_EXPIRES_AFTER: "never" } }).muc_log_expires_after).toBe("never");
    expect(parseConfig({ toml: MINIMAL, env: { MUCGATE_MUC_LOG_EXPIRES_AFTER: "86400" } }).muc_log_expires_after).toBe(86400);
    for (const bad of ["0", '"forever"', "-5"]) lineFor(configError({ toml: `${MINIMAL}
muc_log_expires_after = ${bad}` }), "muc_log_expires_after");
  });

  test("optional keys without a default stay undefined", () => {
    const config = parseConfig({ toml: MINIMAL });
    expect(config.muc_http_auth_enabled_for).toBeUndefined();
    expect(config.muc_http_auth_disabled_for).toBeUndefined();
    expect(config.muc_http_auth_authorization_header).toBeUndefined();
  });

  test("CONFIG_KEYS lists every key of the contract plus mucgate's own", () => {
    expect([...CONFIG_KEYS].sort() as string[]).toEqual(
      [
        "component_jid",
        "component_secret",
        "component_service",
        "http_interface",
        "http_port",
        "muc_http_auth_url",
        "muc_http_auth_enabled_for",
        "muc_http_auth_disabled_for",
        "muc_http_auth_insecure",
        "muc_http_auth_authorization_header",
        "muc_http_auth_authorize_registration",
        "muc_http_auth_cache_ttl",
        "muc_http_auth_negative_cache_ttl",
        "muc_http_auth_cache_size",
        "muc_http_auth_timeout",
        "muc_http_auth_max_concurrency",
        "http_muc_kick_authorization_header",
        "http_api_authorization_header",
        "muc_events_url",
        "muc_events_secret",
        "muc_events_queue_size",
        "muc_events_timeout",
        "max_history_messages",
        "log_level",
        "storage",
        "muc_room_default_persistent",
        "muc_room_default_public",
        "muc_room_default_change_subject",
        "muc_room_default_moderated",
        "muc_room_default_history_length",
        "muc_room_default_language",
        "muc_room_default_members_only",
        "muc_room_default_public_jids",
        "muc_max_occupants",
        "muc_log_by_default",
        "muc_log_all_rooms",
        "muc_log_expires_after",
        "max_archive_query_results",
        "muc_keep_occupants_on_restart",
        "muc_session_check_rate",
        "component_stanza_size_limit",
        "muc_max_char_count",
        "muc_max_subject_length",
        "muc_max_status_length",
        "muc_max_stanza_id_length",
        "max_room_name",
        "max_room_desc",
        "muc_max_held_stanzas",
        "muc_max_held_bytes",
        "component_ping_interval",
        "component_ping_timeout",
        "muc_http_auth_max_requests_per_user",
        "muc_event_rate",
        "muc_burst_factor",
        "max_history_bytes",
        "muc_room_default_max_occupants",
        "max_user_conferences",
        "restrict_room_creation",
        "admins",
      ].sort(),
    );
  });
});

describe("values from the file", () => {
  test("component_jid is stored lower case", () => {
    const config = parseConfig({ toml: MINIMAL.replace("rooms.example.org", "Rooms.Example.ORG") });
    expect(config.component_jid).toBe("rooms.example.org");
  });

  test("room maps are lower-cased and duplicates merge", () => {
    const config = parseConfig({
      toml: `${MINIMAL}\nmuc_http_auth_enabled_for = { ALL = ["Lobby", "lobby"], "Example.org" = ["Staff"] }`,
    });
    expect(config.muc_http_auth_enabled_for).toEqual({ all: ["lobby"], "example.org": ["staff"] });
  });

  test("the auth URL keeps a query string it already has", () => {
    const url = "https://auth.example.org/check?tenant=a&v=2";
    const config = parseConfig({ toml: MINIMAL.replace("https://auth.example.org/check", url) });
    expect(config.muc_http_auth_url).toBe(url);
  });

  test("component_service may leave out the port (5347) and end in a slash; it is kept as xmpp://host:port", () => {
    const config = parseConfig({ toml: `${MINIMAL}\ncomponent_service = "xmpp://xmpp.example.org"` });
    expect(config.component_service).toBe("xmpp://xmpp.example.org:5347");
    expect(parseConfig({ toml: `${MINIMAL}\ncomponent_service = "xmpp://127.0.0.1:5347/"` }).component_service).toBe("xmpp://127.0.0.1:5347");
    expect(parseConfig({ toml: `${MINIMAL}\ncomponent_service = "xmpp://[::1]/"` }).component_service).toBe("xmpp://[::1]:5347");
  });

  test("fractional seconds are allowed for durations and 0 turns a cache off", () => {
    const config = parseConfig({
      toml: `${MINIMAL}\nmuc_http_auth_timeout = 0.5\nmuc_http_auth_cache_ttl = 0\nmuc_http_auth_negative_cache_ttl = 2.5`,
    });
    expect(config.muc_http_auth_timeout).toBe(0.5);
    expect(config.muc_http_auth_cache_ttl).toBe(0);
    expect(config.muc_http_auth_negative_cache_ttl).toBe(2.5);
  });

  test("the auth URL may be left out when enabled_for lists no room", () => {
    const toml = MINIMAL.replace(/^muc_http_auth_url.*$/m, "") + "\nmuc_http_auth_enabled_for = { all = [] }";
    expect(parseConfig({ toml }).muc_http_auth_url).toBeUndefined();
    const emptyTable = MINIMAL.replace(/^muc_http_auth_url.*$/m, "") + "\nmuc_http_auth_enabled_for = {}";
    expect(parseConfig({ toml: emptyTable }).muc_http_auth_enabled_for).toEqual({});
  });
});

describe("the environment", () => {
  const requiredEnv = {
    MUCGATE_COMPONENT_JID: "rooms.example.org",
    MUCGATE_COMPONENT_SECRET: "component-secret",
    MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: "Bearer kick-token",
    MUCGATE_MUC_HTTP_AUTH_URL: "https://auth.example.org/check",
  };

  test("configures mucgate alone, with no file", () => {
    const config = parseConfig({ env: requiredEnv });
    expect(config.component_jid).toBe("rooms.example.org");
    expect(config.http_port).toBe(5380);
  });

  test("wins over the file", () => {
    const config = parseConfig({
      toml: `${MINIMAL}\nhttp_port = 6000\nlog_level = "warn"`,
      env: { MUCGATE_HTTP_PORT: "7000", MUCGATE_COMPONENT_SECRET: "from-env" },
    });
    expect(config.http_port).toBe(7000);
    expect(config.component_secret).toBe("from-env");
    expect(config.log_level).toBe("warn");
  });

  test("numbers are coerced from decimal text", () => {
    const config = parseConfig({
      env: { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_TIMEOUT: "2.5", MUCGATE_MUC_HTTP_AUTH_CACHE_SIZE: "1000" },
    });
    expect(config.muc_http_auth_timeout).toBe(2.5);
    expect(config.muc_http_auth_cache_size).toBe(1000);
  });

  test("numbers are coerced strictly: trailing garbage, hex and empty text are errors", () => {
    for (const text of ["12abc", "0x10", "", "Infinity", "1_000"]) {
      const error = configError({ env: { ...requiredEnv, MUCGATE_HTTP_PORT: text } });
      expect(lineFor(error, "http_port")).toContain("MUCGATE_HTTP_PORT");
    }
  });

  test("an integer key rejects a fraction from the environment", () => {
    const error = configError({ env: { ...requiredEnv, MUCGATE_HTTP_PORT: "80.5" } });
    expect(lineFor(error, "http_port")).toContain("integer");
  });

  test("booleans accept true/false, yes/no and 1/0 in any case", () => {
    const truthy = ["true", "TRUE", "yes", "Yes", "1"];
    const falsy = ["false", "False", "no", "NO", "0"];
    for (const text of truthy) {
      expect(parseConfig({ env: { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_INSECURE: text } }).muc_http_auth_insecure).toBe(true);
    }
    for (const text of falsy) {
      const env = { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_AUTHORIZE_REGISTRATION: text };
      expect(parseConfig({ env }).muc_http_auth_authorize_registration).toBe(false);
    }
    const error = configError({ env: { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_INSECURE: "maybe" } });
    expect(lineFor(error, "muc_http_auth_insecure")).toContain("yes");
  });

  test("a room map is read as JSON", () => {
    const env = { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_ENABLED_FOR: '{"all":["Lobby"],"example.org":["staff"]}' };
    expect(parseConfig({ env }).muc_http_auth_enabled_for).toEqual({ all: ["lobby"], "example.org": ["staff"] });
  });

  test("a room map is read as a TOML inline table", () => {
    const env = { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_DISABLED_FOR: '{ all = ["lobby"], "example.org" = ["staff"] }' };
    expect(parseConfig({ env }).muc_http_auth_disabled_for).toEqual({ all: ["lobby"], "example.org": ["staff"] });
  });

  test("a room map that is neither JSON nor one TOML inline table is an error", () => {
    for (const text of ["[oops", '{ all = ["a"] }\ncomponent_jid = "x"']) {
      const error = configError({ env: { ...requiredEnv, MUCGATE_MUC_HTTP_AUTH_ENABLED_FOR: text } });
      expect(lineFor(error, "muc_http_auth_enabled_for")).toContain("MUCGATE_MUC_HTTP_AUTH_ENABLED_FOR");
    }
  });

  test("variables without the MUCGATE_ prefix are ignored", () => {
    const config = parseConfig({ env: { ...requiredEnv, PATH: "/bin", HTTP_PORT: "1", mucgate_http_port: "2" } });
    expect(config.http_port).toBe(5380);
  });

  test("an undefined value counts as unset", () => {
    const config = parseConfig({ toml: `${MINIMAL}\nhttp_port = 6000`, env: { MUCGATE_HTTP_PORT: undefined } });
    expect(config.http_port).toBe(6000);
  });
});

describe("every problem names its key", () => {
  test("an unknown key in the file, with the closest known key suggested", () => {
    const error = configError({ toml: `${MINIMAL}\nmuc_http_auth_ulr = "x"`, source: "/etc/mucgate.toml" });
    const line = lineFor(error, "muc_http_auth_ulr");
    expect(line).toContain("unknown key");
    expect(line).toContain("/etc/mucgate.toml");
    expect(line).toContain("did you mean muc_http_auth_url?");
  });

  test("an unknown key far from every known key gets no suggestion", () => {
    const line = lineFor(configError({ toml: `${MINIMAL}\nfrobnicate = 1` }), "frobnicate");
    expect(line).not.toContain("did you mean");
  });

  test("a table section is a key too", () => {
    lineFor(configError({ toml: `${MINIMAL}\n[server]\nport = 1` }), "server");
  });

  test("keys that are object-prototype names are unknown, not special", () => {
    for (const key of ["__proto__", "constructor", "toString"]) {
      lineFor(configError({ toml: `${MINIMAL}\n"${key}" = 1` }), key);
    }
  });

  test("an unknown MUCGATE_ variable, with the closest variable suggested", () => {
    const error = configError({ toml: MINIMAL, env: { MUCGATE_HTTP_PROT: "1", MUCGATE_log_level: "info" } });
    expect(lineFor(error, "MUCGATE_HTTP_PROT")).toContain("did you mean MUCGATE_HTTP_PORT?");
    // Environment names are case-sensitive: only the upper-case spelling is read.
    expect(lineFor(error, "MUCGATE_log_level")).toContain("did you mean MUCGATE_LOG_LEVEL?");
  });

  test("a wrong type, with the expected type", () => {
    const error = configError({
      toml: `${MINIMAL}\nhttp_port = "5380"\nmuc_http_auth_insecure = "yes"\nlog_level = "verbose"\nmuc_http_auth_enabled_for = ["lobby"]`,
    });
    expect(lineFor(error, "http_port")).toContain("expected an integer from 1 to 65535");
    expect(lineFor(error, "muc_http_auth_insecure")).toContain("expected true or false");
    expect(lineFor(error, "log_level")).toContain("debug, info, warn, error");
    expect(lineFor(error, "muc_http_auth_enabled_for")).toContain("got an array");
  });

  test("a missing required key", () => {
    const error = configError({ toml: "" });
    for (const key of ["component_jid", "component_secret", "http_muc_kick_authorization_header", "muc_http_auth_url"]) {
      expect(lineFor(error, key)).toContain("required");
      expect(lineFor(error, key)).toContain(envName(key));
    }
  });

  test("a missing kick header says mucgate does not start without it", () => {
    const error = configError({ toml: MINIMAL.replace(/^http_muc_kick.*$/m, "") });
    expect(lineFor(error, "http_muc_kick_authorization_header")).toContain("mucgate does not start without it");
  });

  test("an empty kick header is rejected like a missing one", () => {
    const error = configError({ toml: MINIMAL, env: { MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: "" } });
    lineFor(error, "http_muc_kick_authorization_header");
  });

  test("setting both room maps names both keys", () => {
    const error = configError({
      toml: `${MINIMAL}\nmuc_http_auth_enabled_for = { all = ["a"] }\nmuc_http_auth_disabled_for = { all = ["b"] }`,
    });
    expect(lineFor(error, "muc_http_auth_enabled_for")).toContain("muc_http_auth_disabled_for");
  });

  test("setting one map in the file and the other in the environment is the same error", () => {
    const error = configError({
      toml: `${MINIMAL}\nmuc_http_auth_enabled_for = { all = ["a"] }`,
      env: { MUCGATE_MUC_HTTP_AUTH_DISABLED_FOR: '{"all":["b"]}' },
    });
    expect(lineFor(error, "muc_http_auth_enabled_for")).toContain("muc_http_auth_disabled_for");
  });

  test("bad room map entries: a host that is no domain, a room that is no localpart", () => {
    const error = configError({ toml: `${MINIMAL}\nmuc_http_auth_enabled_for = { "bad host" = ["ok"], all = ["a@b", 3] }` });
    const line = lineFor(error, "muc_http_auth_enabled_for");
    expect(line).toContain('"bad host"');
    expect(line).toContain('"a@b"');
    expect(line).toContain("3 for");
  });

  test("a bad auth URL", () => {
    for (const url of [
      "ftp://auth.example.org/",
      "auth.example.org/check",
      "http://",
      "https://auth.example.org/#frag",
      "https://auth.example.org/check?nickname=x",
    ]) {
      const error = configError({ toml: MINIMAL.replace("https://auth.example.org/check", url) });
      lineFor(error, "muc_http_auth_url");
      // Invalid, not also "required".
      expect(error.problems.filter((p) => p.key === "muc_http_auth_url")).toHaveLength(1);
    }
  });

  test("the auth URL is required while any room is authorized", () => {
    const toml = MINIMAL.replace(/^muc_http_auth_url.*$/m, "") + '\nmuc_http_auth_enabled_for = { all = ["lobby"] }';
    expect(lineFor(configError({ toml }), "muc_http_auth_url")).toContain("required");
  });

  test("a bad component_jid: a user JID, a full JID, an empty or malformed domain", () => {
    for (const jid of ["user@rooms.example.org", "rooms.example.org/res", "", "bad domain", "rooms.example.org/"]) {
      const error = configError({ toml: MINIMAL.replace('"rooms.example.org"', JSON.stringify(jid)) });
      expect(lineFor(error, "component_jid")).toContain("domain JID");
    }
  });

  test("a bad port: 0, above 65535, a fraction", () => {
    for (const port of ["0", "65536", "80.5", "-1"]) {
      lineFor(configError({ toml: `${MINIMAL}\nhttp_port = ${port}` }), "http_port");
    }
  });

  test("a bad component_service: another scheme, no host, a port out of range, a path", () => {
    for (const service of ["tcp://127.0.0.1:5347", "xmpp://", "xmpp://host:0", "xmpp://host:70000", "xmpp://host:5347/x", "127.0.0.1:5347"]) {
      lineFor(configError({ toml: `${MINIMAL}\ncomponent_service = "${service}"` }), "component_service");
    }
  });

  test("numbers out of range: timeout 0 or over an hour, negative TTL, cache size 0, history over 1000", () => {
    const cases: [string, string][] = [
      ["muc_http_auth_timeout", "0"],
      ["muc_http_auth_timeout", "3601"],
      ["muc_http_auth_cache_ttl", "-1"],
      ["muc_http_auth_negative_cache_ttl", "nan"],
      ["muc_http_auth_cache_size", "0"],
      ["muc_http_auth_max_concurrency", "1.5"],
      ["max_history_messages", "1001"],
      ["max_history_messages", "-1"],
    ];
    for (const [key, value] of cases) lineFor(configError({ toml: `${MINIMAL}\n${key} = ${value}` }), key);
  });

  test("storage: memory, sqlite:<path> and postgres URLs are taken as given, from the file or MUCGATE_STORAGE", () => {
    for (const url of [
      "memory",
      "sqlite:mucgate.sqlite",
      "sqlite:/var/lib/mucgate/mucgate.sqlite",
      "postgres://mucgate:pw@db.example.org:5433/mucgate",
      "postgresql://mucgate@127.0.0.1/mucgate?sslmode=require",
    ]) {
      expect(parseConfig({ toml: `${MINIMAL}\nstorage = ${JSON.stringify(url)}` }).storage).toBe(url);
      expect(parseConfig({ toml: MINIMAL, env: { MUCGATE_STORAGE: url } }).storage).toBe(url);
    }
  });

  test("storage: any other form is refused, naming the key and never quoting a password", () => {
    const cases = [
      "sqlite",
      "sqlite:",
      "mysql://u:hunter2@h/db",
      "postgres://u:hunter2@/db",
      "postgres://:hunter2@h/db",
      "postgres://u:hunter2@h",
      "postgres://u:hunter2@h/a/b",
      "postgres://u:hunter2@h:99999/db",
      "postgres://u:hunter2@h/db?sslmode=sometimes",
      "postgres://u:hunter2@h/db?application_name=x",
      "postgres://u:%zz@h/db",
    ];
    for (const url of cases) {
      const line = lineFor(configError({ toml: `${MINIMAL}\nstorage = ${JSON.stringify(url)}` }), "storage");
      expect(line).not.toContain("hunter2");
    }
    expect(lineFor(configError({ toml: `${MINIMAL}\nstorage = 5` }), "storage")).toContain("postgres://user:password@host:port/database");
  });

  test("an empty http_interface", () => {
    lineFor(configError({ toml: `${MINIMAL}\nhttp_interface = ""` }), "http_interface");
  });

  test("a header value that HTTP cannot carry", () => {
    for (const value of ["Bearer a\nb", " Bearer a", "Bearer \u20ac"]) {
      const error = configError({ toml: MINIMAL, env: { MUCGATE_MUC_HTTP_AUTH_AUTHORIZATION_HEADER: value } });
      lineFor(error, "muc_http_auth_authorization_header");
    }
  });
});

describe("reporting", () => {
  test("several problems are reported together, one line each", () => {
    const error = configError({
      toml: 'componet_jid = "x"\nhttp_port = 0\nlog_level = 3',
      env: { MUCGATE_NOPE: "1", MUCGATE_MUC_HTTP_AUTH_TIMEOUT: "soon" },
    });
    const keys = error.problems.map((p) => p.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "componet_jid",
        "MUCGATE_NOPE",
        "component_jid",
        "component_secret",
        "http_port",
        "muc_http_auth_url",
        "muc_http_auth_timeout",
        "http_muc_kick_authorization_header",
        "log_level",
      ]),
    );
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(error.problems.length);
    lines.forEach((line, i) => expect(line.startsWith(`${error.problems[i]!.key}: `)).toBe(true));
    expect(error.key).toBe(error.problems[0]!.key);
  });

  test("a misspelt key is reported before the required key it explains", () => {
    const error = configError({ toml: 'componet_jid = "rooms.example.org"' });
    const keys = error.problems.map((p) => p.key);
    expect(keys.indexOf("componet_jid")).toBeLessThan(keys.indexOf("component_jid"));
  });

  test("secrets are never echoed, even when invalid", () => {
    const error = configError({
      toml: MINIMAL,
      env: {
        MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: "Bearer topsecret\n",
        MUCGATE_MUC_HTTP_AUTH_AUTHORIZATION_HEADER: " Bearer alsosecret",
      },
    });
    expect(error.message).not.toContain("topsecret");
    expect(error.message).not.toContain("alsosecret");
    const wrongType = configError({ toml: MINIMAL.replace('"component-secret"', "123456") });
    expect(lineFor(wrongType, "component_secret")).not.toContain("123456");
  });

  test("a TOML syntax error names the source file, line and column", () => {
    const error = configError({ toml: 'component_jid = "a"\nhttp_port = = 1', source: "/etc/mucgate/mucgate.toml" });
    expect(error.key).toBe("/etc/mucgate/mucgate.toml");
    expect(error.message).toContain("/etc/mucgate/mucgate.toml");
    expect(error.message).toContain("line 2");
  });

  test("a TOML syntax error does not quote the file, which may hold a secret", () => {
    const error = configError({ toml: 'component_secret = "hunter2\n', source: "m.toml" });
    expect(error.message).not.toContain("hunter2");
  });

  test("a unicode byte-order mark at the start of the file is ignored", () => {
    expect(parseConfig({ toml: `\uFEFF${MINIMAL}` }).component_jid).toBe("rooms.example.org");
  });
});

describe("the result", () => {
  test("is deeply frozen", () => {
    const config = parseConfig({ toml: `${MINIMAL}\nmuc_http_auth_enabled_for = { all = ["lobby"] }` });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.muc_http_auth_enabled_for)).toBe(true);
    expect(Object.isFrozen(config.muc_http_auth_enabled_for!.all)).toBe(true);
    expect(() => {
      (config as { http_port: number }).http_port = 1;
    }).toThrow();
  });

  test("has every key, and only those", () => {
    expect(Object.keys(parseConfig({ toml: MINIMAL })).sort()).toEqual([...CONFIG_KEYS].sort());
  });
});

describe("loadConfigFile", () => {
  test("reads the file and applies the environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "mucgate-config-"));
    try {
      const path = join(dir, "mucgate.toml");
      writeFileSync(path, MINIMAL);
      const config = loadConfigFile(path, { MUCGATE_HTTP_PORT: "6001" });
      expect(config.component_jid).toBe("rooms.example.org");
      expect(config.http_port).toBe(6001);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing file is a ConfigError naming --config and the path", () => {
    const path = join(tmpdir(), "mucgate-does-not-exist", "mucgate.toml");
    let error: unknown;
    try {
      loadConfigFile(path, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe("--config");
    expect((error as ConfigError).message).toContain(path);
  });

  test("without a path the environment alone configures mucgate", () => {
    const config = loadConfigFile(undefined, {
      MUCGATE_COMPONENT_JID: "rooms.example.org",
      MUCGATE_COMPONENT_SECRET: "s",
      MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: "k",
      MUCGATE_MUC_HTTP_AUTH_ENABLED_FOR: "{}",
    });
    expect(config.muc_http_auth_url).toBeUndefined();
  });
});

describe("limits of rooms and users (README \"Limits\")", () => {
  const requiredEnv = {
    MUCGATE_COMPONENT_JID: "rooms.example.org",
    MUCGATE_COMPONENT_SECRET: "component-secret",
    MUCGATE_HTTP_MUC_KICK_AUTHORIZATION_HEADER: "Bearer kick-token",
    MUCGATE_MUC_HTTP_AUTH_URL: "https://auth.example.org/check",
  };

  test("admins are bare JIDs, kept normalised, duplicates merged", () => {
    const config = parseConfig({ toml: `${MINIMAL}\nadmins = ["Admin@Example.ORG", "admin@example.org", "ops@example.net"]` });
    expect(config.admins).toEqual(["admin@example.org", "ops@example.net"]);
    expect(Object.isFrozen(config.admins)).toBe(true);
  });

  test("an admin that is not a bare JID is named: a full JID, a domain, an empty string, a number", () => {
    const line = lineFor(configError({ toml: `${MINIMAL}\nadmins = ["a@example.org/phone", "example.org", "", 7, "fine@example.org"]` }), "admins");
    for (const bad of ['"a@example.org/phone"', '"example.org"', '""', "7 is"]) expect(line).toContain(bad);
    expect(line).not.toContain("fine@example.org");
    expect(lineFor(configError({ toml: `${MINIMAL}\nadmins = "admin@example.org"` }), "admins")).toContain("an array of bare JIDs");
  });

  test("admins from the environment: separated by commas, or an array", () => {
    expect(parseConfig({ env: { ...requiredEnv, MUCGATE_ADMINS: " a@example.org, B@example.org ," } }).admins).toEqual(["a@example.org", "b@example.org"]);
    expect(parseConfig({ env: { ...requiredEnv, MUCGATE_ADMINS: '["a@example.org"]' } }).admins).toEqual(["a@example.org"]);
    expect(parseConfig({ env: { ...requiredEnv, MUCGATE_ADMINS: "" } }).admins).toEqual([]);
    expect(lineFor(configError({ env: { ...requiredEnv, MUCGATE_ADMINS: "[oops" } }), "admins")).toContain("MUCGATE_ADMINS");
  });

  test('restrict_room_creation is true, false or "local", as Prosody takes it', () => {
    for (const value of ["true", "false", '"local"']) parseConfig({ toml: `${MINIMAL}\nrestrict_room_creation = ${value}` });
    expect(parseConfig({ toml: `${MINIMAL}\nrestrict_room_creation = "local"` }).restrict_room_creation).toBe("local");
    for (const bad of ['"admin"', '"yes"', "1"]) {
      expect(lineFor(configError({ toml: `${MINIMAL}\nrestrict_room_creation = ${bad}` }), "restrict_room_creation")).toContain('"local"');
    }
    expect(parseConfig({ env: { ...requiredEnv, MUCGATE_RESTRICT_ROOM_CREATION: "Local" } }).restrict_room_creation).toBe("local");
    expect(parseConfig({ env: { ...requiredEnv, MUCGATE_RESTRICT_ROOM_CREATION: "yes" } }).restrict_room_creation).toBe(true);
    expect(lineFor(configError({ env: { ...requiredEnv, MUCGATE_RESTRICT_ROOM_CREATION: "admins" } }), "restrict_room_creation")).toContain('"local"');
  });

  test("max_user_conferences and max_history_bytes are whole numbers from 0 (no limit)", () => {
    for (const key of ["max_user_conferences", "max_history_bytes"]) {
      expect(parseConfig({ toml: `${MINIMAL}\n${key} = 0` })[key as "max_user_conferences"]).toBe(0);
      for (const bad of ["-1", "2.5", '"100"']) lineFor(configError({ toml: `${MINIMAL}\n${key} = ${bad}` }), key);
    }
  });

  test("the room default occupant limit may not exceed muc_max_occupants, wherever either is set", () => {
    const line = lineFor(configError({ toml: `${MINIMAL}\nmuc_max_occupants = 50\nmuc_room_default_max_occupants = 51` }), "muc_room_default_max_occupants");
    expect(line).toContain("muc_max_occupants (50)");
    lineFor(configError({ toml: `${MINIMAL}\nmuc_max_occupants = 50`, env: { MUCGATE_MUC_ROOM_DEFAULT_MAX_OCCUPANTS: "2000" } }), "muc_room_default_max_occupants");
    expect(parseConfig({ toml: `${MINIMAL}\nmuc_max_occupants = 50\nmuc_room_default_max_occupants = 50` }).muc_room_default_max_occupants).toBe(50);
    // 0: no limit of the room's own; the cap still holds (features/max-users.ts).
    expect(parseConfig({ toml: `${MINIMAL}\nmuc_max_occupants = 50\nmuc_room_default_max_occupants = 0` }).muc_room_default_max_occupants).toBe(0);
  });

  test("left out, the room default occupant limit is 1000, or the cap when that is lower (new rooms started at the cap before the key existed)", () => {
    expect(parseConfig({ toml: MINIMAL }).muc_room_default_max_occupants).toBe(1000);
    expect(parseConfig({ toml: `${MINIMAL}\nmuc_max_occupants = 50` }).muc_room_default_max_occupants).toBe(50);
    expect(parseConfig({ toml: `${MINIMAL}\nmuc_max_occupants = 5000` }).muc_room_default_max_occupants).toBe(1000);
  });
});

describe("deploy/mucgate.example.toml", () => {
  const examplePath = join(import.meta.dir, "..", "deploy", "mucgate.example.toml");
  const example = readFileSync(examplePath, "utf8");
  // A commented-out setting: "# key = value".
  const commented = [...example.matchAll(/^# ([a-z_]+) = (.+)$/gm)].map((m) => ({ key: m[1]!, line: `${m[1]} = ${m[2]}` }));

  test("parses as it is", () => {
    expect(parseConfig({ toml: example, source: examplePath }).component_jid).toBe("rooms.example.org");
  });

  test("mentions every key", () => {
    for (const key of CONFIG_KEYS) expect(example).toMatch(new RegExp(`^(# )?${key} = `, "m"));
  });

  test("each commented-out setting still parses when uncommented", () => {
    expect(commented.length).toBeGreaterThan(0);
    for (const { line } of commented) parseConfig({ toml: `${example}\n${line}`, source: examplePath });
  });

  test("the defaults it shows are the real defaults", () => {
    for (const { key, line } of commented) {
      if (!(key in DEFAULTS)) continue;
      const config = parseConfig({ toml: `${example}\n${line}` });
      expect(config[key as keyof typeof DEFAULTS]).toEqual(DEFAULTS[key as keyof typeof DEFAULTS]);
    }
    // A key the example sets (storage: the path the systemd unit's state directory holds) says its default in words.
    const set = (key: string) => new RegExp(`^${key} = `, "m").test(example);
    for (const key of Object.keys(DEFAULTS)) expect(commented.some((c) => c.key === key) || set(key)).toBe(true);
  });
});
