import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { stringify } from "smol-toml";
import { CONFIG_KEYS, DEFAULTS, ENV_PREFIX, envName, parseConfig, type Config } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { envSpellings, validFile, VALUE } from "./config-arbitraries.ts";

/** A fixed valid file the single-key properties vary one key of. */
const BASE = {
  component_jid: "rooms.example.org",
  component_secret: "component-secret",
  http_muc_kick_authorization_header: "Bearer kick-token",
  muc_http_auth_url: "https://auth.example.org/check",
};

/** What parseConfig should return for a file: every key, the file's values over the defaults. */
function expected(file: Partial<Config>): Config {
  const unset = Object.fromEntries(CONFIG_KEYS.map((key) => [key, undefined]));
  return { ...unset, ...DEFAULTS, ...file } as Config;
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config properties", () => {
  test("any valid configuration written as TOML parses back to itself", () => {
    fc.assert(
      fc.property(validFile, (file) => {
        expect(parseConfig({ toml: stringify(file) })).toEqual(expected(file));
      }),
      { numRuns: 300 },
    );
  });

  test("for any key and any valid values, the environment wins over the file", () => {
    const keyAndValues = fc
      .constantFrom(...CONFIG_KEYS)
      .chain((key) => fc.tuple(fc.constant(key), VALUE[key], VALUE[key]))
      .chain(([key, inFile, inEnv]) => fc.tuple(fc.constant(key), fc.constant(inFile), fc.constant(inEnv), envSpellings(inEnv)));
    fc.assert(
      fc.property(keyAndValues, ([key, inFile, inEnv, text]) => {
        const toml = stringify({ ...BASE, [key]: inFile });
        const config = parseConfig({ toml, env: { [envName(key)]: text } });
        expect(config[key]).toEqual(inEnv);
      }),
      { numRuns: 500 },
    );
  });

  test("any unknown key in the file is rejected with a message containing it", () => {
    const unknownKey = fc.string().filter((key) => !(CONFIG_KEYS as readonly string[]).includes(key));
    fc.assert(
      fc.property(unknownKey, fc.oneof(fc.integer(), fc.string(), fc.boolean()), (key, value) => {
        const error = errorOf(() => parseConfig({ toml: stringify({ ...BASE, [key]: value }) }));
        expect(error.message).toContain(key);
        expect(error.problems.some((p) => p.key.includes(key))).toBe(true);
      }),
    );
  });

  test("any unknown MUCGATE_ variable is rejected with a message containing its name", () => {
    const known = new Set(CONFIG_KEYS.map(envName));
    const unknownName = fc
      .string({ minLength: 1 })
      .map((rest) => ENV_PREFIX + rest)
      .filter((name) => !known.has(name));
    fc.assert(
      fc.property(unknownName, (name) => {
        const error = errorOf(() => parseConfig({ toml: stringify(BASE), env: { [name]: "1" } }));
        expect(error.message).toContain(name);
      }),
    );
  });
});
