import type { RoomConfig } from "../../muc/room-config.ts";
import { ApiError } from "./api-error.ts";

/**
 * ejabberd's room options (mod_muc_admin's get_room_options,
 * create_room_with_opts, change_room_option) and mucgate's RoomConfig
 * (docs/room-api-ejabberd.md "Options"). Every value travels as a string,
 * booleans as "true"/"false", in ejabberd's key order.
 *
 * - An option with a RoomConfig field reads and writes it.
 * - An option mucgate has no setting for answers what mucgate does and
 *   accepts only that value: setting it to anything else is refused, never
 *   dropped, so a room is never created other than it was asked for.
 * - A name ejabberd does not know is ignored by create_room_with_opts and
 *   refused by change_room_option, as ejabberd does (but with a 400).
 */

type Draft = { -readonly [K in keyof RoomConfig]: RoomConfig[K] };

interface Option {
  readonly name: string;
  get(config: RoomConfig): string;
  /** Reads `value` into the draft; throws the ApiError that refuses it. */
  set(value: string, draft: Draft): void;
}

function refuse(message: string): ApiError {
  return new ApiError(400, message);
}

function parseBoolean(name: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw refuse(`Invalid value for option ${name}: ${JSON.stringify(value)} (true or false)`);
}

function bool<K extends { [P in keyof RoomConfig]: RoomConfig[P] extends boolean ? P : never }[keyof RoomConfig]>(name: string, field: K): Option {
  return {
    name,
    get: (c) => String(c[field]),
    set: (value, draft) => {
      (draft as Record<K, boolean>)[field] = parseBoolean(name, value);
    },
  };
}

function text<K extends { [P in keyof RoomConfig]: RoomConfig[P] extends string ? P : never }[keyof RoomConfig]>(name: string, field: K, check?: (v: string) => boolean): Option {
  return {
    name,
    get: (c) => c[field] as string,
    set: (value, draft) => {
      if (check && !check(value)) throw refuse(`Invalid value for option ${name}: ${JSON.stringify(value)}`);
      (draft as Record<K, string>)[field] = value;
    },
  };
}

/** A RoomConfig field of a few values, each spelt one way in ejabberd's option. */
function mapped<K extends keyof RoomConfig>(name: string, field: K, spellings: readonly (readonly [string, RoomConfig[K]])[]): Option {
  return {
    name,
    get: (c) => spellings.find(([, v]) => v === c[field])?.[0] ?? spellings[0]![0],
    set: (value, draft) => {
      const hit = spellings.find(([s]) => s === value);
      if (!hit) throw refuse(`Invalid value for option ${name}: ${JSON.stringify(value)} (${spellings.map(([s]) => s).join(" or ")})`);
      (draft as Record<K, RoomConfig[K]>)[field] = hit[1];
    },
  };
}

/** An option mucgate has no setting for: it is always `value`. */
function fixed(name: string, value: string): Option {
  return {
    name,
    get: () => value,
    set: (given) => {
      if (given !== value) throw refuse(`Option ${name} is not supported by this service: it is always ${JSON.stringify(value)}`);
    },
  };
}

const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** In ejabberd 23.01's order (get_room_options). */
export const ROOM_OPTIONS: readonly Option[] = Object.freeze([
  text("title", "name"),
  text("description", "description"),
  bool("allow_change_subj", "changeSubject"),
  fixed("allow_query_users", "true"),
  mapped("allow_private_messages", "allowPm", [
    ["true", "anyone"],
    ["false", "none"],
  ]),
  fixed("allow_private_messages_from_visitors", "anyone"),
  fixed("allow_visitor_status", "true"),
  fixed("allow_visitor_nickchange", "true"),
  bool("public", "public"),
  fixed("public_list", "true"),
  bool("persistent", "persistent"),
  bool("moderated", "moderated"),
  fixed("captcha_protected", "false"),
  fixed("members_by_default", "true"),
  bool("members_only", "membersOnly"),
  // Any occupant may send a mediated invitation (§7.8.2).
  bool("allow_user_invites", "allowInvites"),
  fixed("allow_subscription", "false"),
  {
    // A protected room is one with a secret (§7.2.6): "false" clears it, "true" needs `password` too (checked after all options).
    name: "password_protected",
    get: (c) => String(c.password !== ""),
    set: (value, draft) => {
      if (parseBoolean("password_protected", value) === false) draft.password = "";
    },
  },
  text("password", "password"),
  // Semi-anonymous (§4.2, "true"): real JIDs only to moderators; "false": to everyone.
  mapped("anonymous", "whois", [
    ["true", "moderators"],
    ["false", "anyone"],
  ]),
  fixed("presence_broadcast", "[moderator,participant,visitor]"),
  fixed("allow_voice_requests", "false"),
  fixed("voice_request_min_interval", "1800"),
  // No limit on occupants.
  {
    name: "max_users",
    get: (c) => String(c.maxUsers),
    set: (value, draft) => {
      if (!/^\d{1,9}$/.test(value)) throw refuse(`Invalid value for option max_users: ${JSON.stringify(value)} (a whole number; 0 for no limit)`);
      draft.maxUsers = Number(value);
    },
  },
  fixed("logging", "false"),
  fixed("vcard", ""),
  fixed("vcard_xupdate", "undefined"),
  fixed("captcha_whitelist", "{0,nil}"),
  bool("mam", "archiving"),
  fixed("pubsub", ""),
  fixed("enable_hats", "false"),
  text("lang", "language", (v) => v === "" || LANGUAGE_TAG.test(v)),
]);

const BY_NAME = new Map(ROOM_OPTIONS.map((o) => [o.name, o]));

/** get_room_options: every option, a string each, in ejabberd's order. */
export function roomOptions(config: RoomConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of ROOM_OPTIONS) out[option.name] = option.get(config);
  return out;
}

/**
 * `config` with `options` applied, in order; throws the ApiError of the
 * first refused one. Unknown names are skipped (`unknown: "ignore"`, as
 * create_room_with_opts) or refused (`"refuse"`, change_room_option).
 */
export function withOptions(
  config: RoomConfig,
  options: readonly (readonly [string, string])[],
  unknown: "ignore" | "refuse",
  limits: { readonly maxOccupants: number } = { maxOccupants: 0 },
): RoomConfig {
  const draft: Draft = { ...config };
  for (const [name, value] of options) {
    const option = BY_NAME.get(name);
    if (!option) {
      if (unknown === "refuse") throw refuse(`Unknown option: ${name}`);
      continue;
    }
    option.set(value, draft);
  }
  if (options.some(([name, value]) => name === "password_protected" && value === "true") && draft.password === "") {
    throw refuse("Option password_protected is true but the room has no password: set option password too");
  }
  // muc_max_occupants caps every room (0: no cap): a room may ask for less, never more, nor for no limit.
  if (limits.maxOccupants > 0 && (draft.maxUsers === 0 || draft.maxUsers > limits.maxOccupants) && draft.maxUsers !== config.maxUsers) {
    throw refuse(`Invalid value for option max_users: ${draft.maxUsers} (at most ${limits.maxOccupants} on this service)`);
  }
  return Object.freeze(draft);
}
