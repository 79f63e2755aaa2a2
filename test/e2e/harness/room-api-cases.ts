import type { Element } from "@xmpp/xml";
import { NS_MUC_USER, statusCodes } from "./stanzas.ts";

/**
 * ejabberd 23.01's room admin API (mod_muc_admin over mod_http_api, API
 * version 0 and 1 argument names) as observed, as data: one case per answer,
 * each a call and what came back. `room-api-run.ts` runs them against any
 * target (ejabberd now, mucgate later: another base URL and Authorization),
 * `docs/room-api-ejabberd.md` is the same table for people.
 *
 * Bodies are exact JSON values where the answer is exact; predicates only
 * where it holds other runs' rooms or comes in no fixed order. `odd` marks
 * answers that are odd; `copy: false` where a compatible implementation need
 * not copy them (a 500 for bad input, a stored non-boolean, a crash).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The names a case runs with: fresh for every case (room, accounts, nicks). */
export interface CaseRun {
  /** The MUC service domain, e.g. `conference.localhost`. */
  service: string;
  /** The virtual host the accounts live on. */
  host: string;
  /** A room node no other case uses, and its JID. */
  room: string;
  roomJid: string;
  /** Two accounts of this case: `user` (the occupant) and `other` (the invitee, the one banned). */
  user: string;
  userJid: string;
  other: string;
  otherJid: string;
  /** Their nicks when they join. */
  nick: Record<Who, string>;
  /** Their full JIDs once logged in (cases with `online` or `occupants`). */
  fullJid: Partial<Record<Who, string>>;
}

export type Who = "user" | "other";

/**
 * Which Authorization a call carries: the target's valid one (`admin`, the
 * default), none, the admin's account with a wrong password, Basic of an
 * account that does not exist, Basic that is not base64, another scheme, a
 * Bearer token nobody issued, or `user`'s own valid account (not an admin).
 */
export type AuthKind =
  | "admin"
  | "none"
  | "wrong-password"
  | "unknown-account"
  | "malformed-basic"
  | "other-scheme"
  | "bearer"
  | "user-account";

export interface Call {
  /** `<base>/<command>`; `""` for the bare base. */
  command: string;
  /** The JSON arguments. Default `{}`. For GET, the query string. */
  args?: (run: CaseRun) => unknown;
  /** A body sent as is instead of the JSON arguments. */
  rawBody?: string;
  method?: "POST" | "GET" | "OPTIONS" | "PUT";
  /** Default `application/json`; `null` for no Content-Type. */
  contentType?: string | null;
  auth?: AuthKind;
}

export interface Expected {
  status: number;
  /** The exact JSON value (deep equality), the exact text for a non-JSON body, or a predicate. */
  body: Json | ((body: unknown, run: CaseRun) => boolean);
  /** Default `application/json`. */
  contentType?: string;
  /** Headers that must have exactly these values (names in lower case). */
  headers?: Record<string, string>;
}

export interface Odd {
  note: string;
  /** Whether a compatible implementation must answer the same. */
  copy: boolean;
}

export interface StanzaExpectation {
  /** Who receives it. */
  to: Who;
  /** What it is, for failure messages. */
  what: string;
  match: (stanza: Element, run: CaseRun) => boolean;
  odd?: Odd;
}

export interface RoomApiCase extends Call {
  /** The behaviour, as the test is named. */
  name: string;
  /** Calls made first (with the admin's Authorization); each must answer 200. */
  before?: (run: CaseRun) => Call[];
  /** Logged in (and with initial presence) before the call, not in the room. */
  online?: Who[];
  /** Logged in and joined `roomJid/nick` (in this order) after `before`, before the call. */
  occupants?: Who[];
  expect: Expected;
  /** Stanzas that must reach these clients after the call, each after the previous one to the same client. */
  receives?: StanzaExpectation[];
  /** Stanzas that must not reach them (within a short wait). */
  receivesNothing?: StanzaExpectation[];
  /** Milliseconds to wait before `then`. */
  waitMs?: number;
  /** Calls after it (admin Authorization unless said), with their answers: the effect, as the API reports it. */
  then?: (Call & { expect: Expected })[];
  odd?: Odd;
}

// ---- answers ejabberd repeats -------------------------------------------------

/** mod_http_api's structured errors: `{"status":"error","code":…,"message":…}`. */
const apiError = (code: number, message: string): Json => ({ status: "error", code, message });
/** Every rescode command's success: the number 0 (1 would be failure). */
const OK = 0;
const ROOM_NOT_FOUND = "room_not_found";
/** On every answer of mod_http_api, success or error. */
const CORS = { "access-control-allow-origin": "*", "access-control-allow-headers": "Content-Type, Authorization, X-Admin" };
const INTERNAL_ERROR = "internal_error";

/** get_room_options of a room made by create_room with mod_muc's defaults: every value a string. */
export const DEFAULT_ROOM_OPTIONS = {
  title: "",
  description: "",
  allow_change_subj: "true",
  allow_query_users: "true",
  allow_private_messages: "true",
  allow_private_messages_from_visitors: "anyone",
  allow_visitor_status: "true",
  allow_visitor_nickchange: "true",
  public: "true",
  public_list: "true",
  persistent: "false",
  moderated: "true",
  captcha_protected: "false",
  members_by_default: "true",
  members_only: "false",
  allow_user_invites: "false",
  allow_subscription: "false",
  password_protected: "false",
  password: "",
  anonymous: "true",
  presence_broadcast: "[moderator,participant,visitor]",
  allow_voice_requests: "true",
  voice_request_min_interval: "1800",
  max_users: "200",
  logging: "false",
  vcard: "",
  vcard_xupdate: "undefined",
  captcha_whitelist: "{0,nil}",
  mam: "false",
  pubsub: "",
  enable_hats: "false",
  lang: "",
} as const satisfies Record<string, string>;

/** The sixteen options, each set away from its default. */
export const ALL_OPTIONS = {
  title: "Planning",
  description: "Where we plan",
  persistent: "true",
  public: "false",
  public_list: "false",
  members_only: "true",
  moderated: "false",
  password_protected: "true",
  password: "sesame",
  anonymous: "false",
  allow_change_subj: "false",
  allow_private_messages: "false",
  allow_user_invites: "true",
  max_users: "50",
  mam: "true",
  lang: "en",
} as const satisfies Record<string, string>;

const asOptions = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));

const room = (r: CaseRun) => ({ name: r.room, service: r.service });
const newRoom = (r: CaseRun) => ({ name: r.room, service: r.service, host: r.host });
const createRoom = (r: CaseRun): Call => ({ command: "create_room", args: () => newRoom(r) });
const createWithOpts = (r: CaseRun, options: Record<string, string>): Call => ({
  command: "create_room_with_opts",
  args: () => ({ ...newRoom(r), options: asOptions(options) }),
});
const affiliate = (r: CaseRun, jid: string, affiliation: string): Call => ({
  command: "set_room_affiliation",
  args: () => ({ ...room(r), jid, affiliation }),
});

/** An array of room JIDs on the service that holds this case's room (other runs' rooms may be there too). */
const listsRoom = (body: unknown, r: CaseRun) =>
  Array.isArray(body) && body.every((j) => typeof j === "string" && j.endsWith(`@${r.service}`)) && body.includes(r.roomJid);
const lacksRoom = (body: unknown, r: CaseRun) => Array.isArray(body) && !body.includes(r.roomJid);
/** An exact value made of the run's names. */
const exactly = (value: (r: CaseRun) => Json) => (body: unknown, r: CaseRun) => Bun.deepEquals(body, value(r), true);
/** The same members as `expected`, in any order (ejabberd lists affiliations from a map). */
const sameMembers = (expected: (r: CaseRun) => Json[]) => (body: unknown, r: CaseRun) => {
  const want = expected(r);
  return Array.isArray(body) && body.length === want.length && want.every((e) => body.some((b) => Bun.deepEquals(b, e, true)));
};
/** get_room_occupants' entry for a case's occupant (its full JID once logged in). */
const occupant = (r: CaseRun, who: Who, role: string): Json => ({ jid: r.fullJid[who]!, nick: r.nick[who], role });
const affiliation = (username: string, domain: string, aff: string): Json => ({ username, domain, affiliation: aff, reason: "" });

// ---- stanza readers -------------------------------------------------------------

/** The muc#user `<x/>`'s children as `name` → attributes (the xmlns left out). */
function mucUser(s: Element): Map<string, Record<string, string>> | undefined {
  const x = s.getChild("x", NS_MUC_USER);
  if (!x) return undefined;
  return new Map(x.getChildElements().filter((c) => c.name !== "status").map((c) => [c.name, { ...c.attrs }]));
}

const sameAttrs = (a: Record<string, string> | undefined, b: Record<string, string>) => a !== undefined && Bun.deepEquals(a, b, true);
const sameCodes = (s: Element, codes: number[]) => Bun.deepEquals([...statusCodes(s)].sort(), [...codes].sort());
const unavailableFrom = (s: Element, from: string) => s.name === "presence" && s.attrs.type === "unavailable" && s.attrs.from === from;

/** §10.9 as ejabberd sends it: `<destroy/>` with no jid or reason, item none/none, no status 110. */
const destroyPresence = (s: Element, r: CaseRun, who: Who) => {
  const x = mucUser(s);
  return (
    unavailableFrom(s, `${r.roomJid}/${r.nick[who]}`) &&
    x?.size === 2 &&
    sameAttrs(x.get("destroy"), {}) &&
    s.getChild("x", NS_MUC_USER)!.getChild("destroy")!.children.length === 0 &&
    sameAttrs(x.get("item"), { role: "none", affiliation: "none" }) &&
    statusCodes(s).length === 0
  );
};

/** The room's own bare-JID unavailable presence (it carried XEP-0115 caps while the occupant was in). */
const roomGone = (s: Element, r: CaseRun) => unavailableFrom(s, r.roomJid) && s.children.length === 0;

/** XEP-0249's `<x xmlns='jabber:x:conference'/>` in a message. */
const NS_CONFERENCE = "jabber:x:conference";
const isInvitation = (s: Element) => s.getChild("x", NS_CONFERENCE) !== undefined;

const SHUTDOWN_REASON = "You are being removed from the room because of a system shutdown";

// ---- the cases --------------------------------------------------------------------

export const ROOM_API_CASES: RoomApiCase[] = [
  // create_room
  {
    name: "create_room creates a room and answers 0",
    command: "create_room",
    args: newRoom,
    expect: { status: 200, body: OK, headers: CORS },
    then: [{ command: "muc_online_rooms", args: (r) => ({ service: r.service }), expect: { status: 200, body: listsRoom } }],
    odd: { note: "success is the JSON number 0 (a rescode; 1 would be failure)", copy: true },
  },
  {
    name: "create_room of an existing room is a 400 with a bare string",
    command: "create_room",
    before: (r) => [createRoom(r)],
    args: newRoom,
    expect: { status: 400, body: "Room already exists", headers: CORS },
    odd: { note: "errors of the commands are a JSON string, not the {status, code, message} object", copy: true },
  },
  {
    name: "create_room lower-cases the room name (nodeprep)",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), name: r.room.toUpperCase() }),
    expect: { status: 200, body: OK },
    then: [{ command: "muc_online_rooms", args: (r) => ({ service: r.service }), expect: { status: 200, body: listsRoom } }],
  },
  {
    name: "create_room of a malformed name is Invalid 'name'",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), name: "no spaces@here" }),
    expect: { status: 400, body: "Invalid 'name'" },
  },
  {
    name: "create_room on an unknown service is Invalid 'service'",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), service: `nosuch.${r.host}` }),
    expect: { status: 400, body: "Invalid 'service'" },
  },
  {
    name: "create_room with an unknown host is a 500",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), host: "nohost.invalid" }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "a bad argument crashes the command: 500 \"internal_error\"", copy: false },
  },
  {
    name: "create_room without host names the missing argument",
    command: "create_room",
    args: (r) => ({ name: r.room, service: r.service }),
    expect: { status: 400, body: "Request have missing argument: host" },
  },
  {
    name: "create_room with an extra argument lists the unknown arguments",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), extra: 1 }),
    expect: { status: 400, body: "Request have unknown arguments: [extra]" },
  },
  {
    name: "create_room with a number for name is not in format binary",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), name: 9 }),
    expect: { status: 400, body: "Arg 9 is not in format binary" },
  },
  {
    name: "create_room with null for name is not in format binary",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), name: null }),
    expect: { status: 400, body: "Arg null is not in format binary" },
  },
  {
    name: "create_room takes an array of strings for name, concatenated",
    command: "create_room",
    args: (r) => ({ ...newRoom(r), name: [r.room] }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_occupants_number", args: room, expect: { status: 200, body: { occupants: 0 } } }],
    odd: { note: "a list is taken as an Erlang iolist: [\"a\",\"b\"] is the name \"ab\"", copy: false },
  },
  {
    name: "create_room with a duplicated argument refuses it",
    command: "create_room",
    rawBody: '{"name":"a","name":"b","service":"x","host":"y"}',
    expect: { status: 400, body: "Request have duplicate argument: name" },
  },

  // create_room_with_opts
  {
    name: "create_room_with_opts sets every option it is given",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: asOptions(ALL_OPTIONS) }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, ...ALL_OPTIONS } } }],
  },
  {
    name: "create_room_with_opts takes options as an object too",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: { title: "As object", max_users: "7" } }),
    expect: { status: 200, body: OK },
    then: [
      {
        command: "get_room_options",
        args: room,
        expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, title: "As object", max_users: "7" } },
      },
    ],
  },
  {
    name: "create_room_with_opts without options creates a room with the defaults",
    command: "create_room_with_opts",
    args: newRoom,
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: DEFAULT_ROOM_OPTIONS } }],
    odd: { note: "a missing list argument is an empty list, not a missing argument", copy: true },
  },
  {
    name: "create_room_with_opts ignores an unknown option name",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: [{ name: "bogus", value: "true" }] }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: DEFAULT_ROOM_OPTIONS } }],
    odd: { note: "unknown options are dropped (logged as 'Unknown MUC room option'), the room is created", copy: true },
  },
  {
    name: "create_room_with_opts stores a boolean option's bad value as given",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: [{ name: "public", value: "maybe" }] }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, public: "maybe" } } }],
    odd: {
      note: "any word becomes the option's value (only \"true\" is true; \"1\" is not); persistent \"maybe\" crashes the room at its 30-second check",
      copy: false,
    },
  },
  {
    name: "create_room_with_opts with a non-integer max_users is a 500 and no room",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: [{ name: "max_users", value: "lots" }] }),
    expect: { status: 500, body: INTERNAL_ERROR },
    then: [{ command: "get_room_occupants_number", args: room, expect: { status: 400, body: ROOM_NOT_FOUND } }],
    odd: { note: "binary_to_integer crashes: 500 \"internal_error\"", copy: false },
  },
  {
    name: "create_room_with_opts with a number for a value is not in format binary",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: [{ name: "max_users", value: 30 }] }),
    expect: { status: 400, body: "Arg 30 is not in format binary" },
  },
  {
    name: "create_room_with_opts with a string for options names the Erlang format",
    command: "create_room_with_opts",
    args: (r) => ({ ...newRoom(r), options: "x" }),
    expect: { status: 400, body: "Arg <<120>> is not in format {list,{option,{tuple,[{name,binary},{value,binary}]}}}" },
    odd: { note: "the message prints Erlang terms", copy: false },
  },
  {
    name: "create_room_with_opts of an existing room is Room already exists",
    command: "create_room_with_opts",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...newRoom(r), options: [] }),
    expect: { status: 400, body: "Room already exists" },
  },

  // destroy_room
  {
    name: "destroy_room sends each occupant the destroy presence, then a shutdown one",
    command: "destroy_room",
    before: (r) => [createRoom(r)],
    occupants: ["user", "other"],
    args: room,
    expect: { status: 200, body: OK },
    receives: [
      { to: "user", what: "the room's bare-JID unavailable", match: roomGone, odd: { note: "the room's own presence, ejabberd's", copy: false } },
      { to: "user", what: "§10.9 destroy presence", match: (s, r) => destroyPresence(s, r, "user") },
      {
        to: "user",
        what: "a second unavailable: 332 system shutdown",
        match: (s, r) =>
          unavailableFrom(s, `${r.roomJid}/${r.nick.user}`) &&
          sameCodes(s, [110, 332]) &&
          s.getChild("x", NS_MUC_USER)?.getChild("item")?.getChildText("reason") === SHUTDOWN_REASON,
        odd: { note: "after the §10.9 presence ejabberd stops the room and sends 110+332 as for a shutdown", copy: false },
      },
      { to: "other", what: "§10.9 destroy presence", match: (s, r) => destroyPresence(s, r, "other") },
    ],
    receivesNothing: [
      { to: "user", what: "the other occupant's unavailable", match: (s, r) => unavailableFrom(s, `${r.roomJid}/${r.nick.other}`) },
    ],
    then: [
      { command: "muc_online_rooms", args: (r) => ({ service: r.service }), expect: { status: 200, body: lacksRoom } },
      { command: "get_room_occupants_number", args: room, expect: { status: 400, body: ROOM_NOT_FOUND } },
    ],
  },
  {
    name: "destroy_room of an unknown room is Room doesn't exists",
    command: "destroy_room",
    args: room,
    expect: { status: 400, body: "Room doesn't exists" },
    odd: { note: "sic: \"doesn't exists\"", copy: true },
  },
  {
    name: "destroy_room without service names the missing argument",
    command: "destroy_room",
    args: (r) => ({ name: r.room }),
    expect: { status: 400, body: "Request have missing argument: service" },
  },

  // muc_online_rooms
  {
    name: "muc_online_rooms lists the service's rooms as bare JIDs",
    command: "muc_online_rooms",
    before: (r) => [createRoom(r)],
    args: (r) => ({ service: r.service }),
    expect: { status: 200, body: listsRoom },
  },
  {
    name: "muc_online_rooms of service global lists every service's rooms",
    command: "muc_online_rooms",
    before: (r) => [createRoom(r)],
    args: () => ({ service: "global" }),
    expect: { status: 200, body: listsRoom },
  },
  {
    name: "muc_online_rooms of an unknown service is a 500",
    command: "muc_online_rooms",
    args: (r) => ({ service: `nosuch.${r.host}` }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "not a 4xx", copy: false },
  },
  {
    name: "muc_online_rooms answers GET with the arguments in the query",
    command: "muc_online_rooms",
    method: "GET",
    before: (r) => [createRoom(r)],
    args: (r) => ({ service: r.service }),
    expect: { status: 200, body: listsRoom },
  },

  // get_room_occupants
  {
    name: "get_room_occupants lists full JID, nick and role",
    command: "get_room_occupants",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    args: room,
    expect: { status: 200, body: exactly((r) => [occupant(r, "user", "participant")]) },
    odd: { note: "a room made over the API has no owner: who joins is a participant, affiliation none", copy: true },
  },
  {
    name: "get_room_occupants names the creator of a room made by joining moderator",
    command: "get_room_occupants",
    occupants: ["user"],
    args: room,
    expect: { status: 200, body: exactly((r) => [occupant(r, "user", "moderator")]) },
    then: [
      { command: "get_room_affiliations", args: room, expect: { status: 200, body: exactly((r) => [affiliation(r.user, r.host, "owner")]) } },
    ],
  },
  {
    name: "get_room_occupants of an empty room is an empty list",
    command: "get_room_occupants",
    before: (r) => [createRoom(r)],
    args: room,
    expect: { status: 200, body: [] },
  },
  {
    name: "get_room_occupants of an unknown room is room_not_found",
    command: "get_room_occupants",
    args: room,
    expect: { status: 400, body: ROOM_NOT_FOUND },
  },

  // get_room_occupants_number
  {
    name: "get_room_occupants_number is an object named occupants",
    command: "get_room_occupants_number",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    args: room,
    expect: { status: 200, body: { occupants: 1 } },
    odd: { note: "an integer result comes wrapped as {\"occupants\": N}, also on /api/v1", copy: true },
  },
  {
    name: "get_room_occupants_number of an unknown room is room_not_found",
    command: "get_room_occupants_number",
    args: room,
    expect: { status: 400, body: ROOM_NOT_FOUND },
  },

  // get_room_options
  {
    name: "get_room_options is one object of string values",
    command: "get_room_options",
    before: (r) => [createRoom(r)],
    args: room,
    expect: { status: 200, body: DEFAULT_ROOM_OPTIONS },
    odd: {
      note: "an object, not a list of {name, value}; booleans and numbers as strings; Erlang terms printed (\"[moderator,participant,visitor]\", \"{0,nil}\", \"undefined\")",
      copy: true,
    },
  },
  {
    name: "get_room_options of an unknown room is an empty object",
    command: "get_room_options",
    args: room,
    expect: { status: 200, body: {} },
    odd: { note: "200 {} instead of an error", copy: true },
  },
  {
    name: "get_room_options without name names the missing argument",
    command: "get_room_options",
    args: (r) => ({ service: r.service }),
    expect: { status: 400, body: "Request have missing argument: name" },
  },

  // change_room_option
  {
    name: "change_room_option sets an option",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "title", value: "Renamed" }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, title: "Renamed" } } }],
  },
  {
    name: "change_room_option password leaves password_protected alone",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "password", value: "sesame" }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, password: "sesame" } } }],
  },
  {
    name: "change_room_option tells occupants with status 104",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    args: (r) => ({ ...room(r), option: "title", value: "Renamed" }),
    expect: { status: 200, body: OK },
    receives: [
      {
        to: "user",
        what: "§10.2.1 groupchat message with status 104",
        match: (s, r) =>
          s.name === "message" && s.attrs.from === r.roomJid && s.attrs.type === "groupchat" && sameCodes(s, [104]) && mucUser(s)?.size === 0,
      },
    ],
  },
  {
    name: "change_room_option of an unknown option is a 500",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "bogus", value: "x" }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "unlike create_room_with_opts, which ignores it", copy: false },
  },
  {
    name: "change_room_option stores a boolean option's bad value as given",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "public", value: "1" }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_options", args: room, expect: { status: 200, body: { ...DEFAULT_ROOM_OPTIONS, public: "1" } } }],
    odd: { note: "as create_room_with_opts: \"1\" is not true, it is \"1\"", copy: false },
  },
  {
    name: "change_room_option with a non-integer max_users is a 500",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "max_users", value: "lots" }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "a crash, not a 4xx", copy: false },
  },
  {
    name: "change_room_option with a JSON boolean is not in format binary",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "public", value: true }),
    expect: { status: 400, body: "Arg true is not in format binary" },
  },
  {
    name: "change_room_option without value names the missing argument",
    command: "change_room_option",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), option: "title" }),
    expect: { status: 400, body: "Request have missing argument: value" },
  },
  {
    name: "change_room_option of an unknown room is Room not found",
    command: "change_room_option",
    args: (r) => ({ ...room(r), option: "title", value: "x" }),
    expect: { status: 400, body: "Room not found" },
  },

  // get_room_affiliations / set_room_affiliation
  {
    name: "get_room_affiliations lists username, domain, affiliation and reason",
    command: "get_room_affiliations",
    before: (r) => [createRoom(r), affiliate(r, r.userJid, "member"), affiliate(r, r.otherJid, "admin")],
    args: room,
    expect: {
      status: 200,
      body: sameMembers((r) => [affiliation(r.user, r.host, "member"), affiliation(r.other, r.host, "admin")]),
    },
  },
  {
    name: "get_room_affiliations of a room without any is an empty list",
    command: "get_room_affiliations",
    before: (r) => [createRoom(r)],
    args: room,
    expect: { status: 200, body: [] },
  },
  {
    name: "get_room_affiliations of an unknown room is The room does not exist.",
    command: "get_room_affiliations",
    args: room,
    expect: { status: 400, body: "The room does not exist." },
    odd: { note: "each command words 'no such room' its own way", copy: true },
  },
  {
    name: "set_room_affiliation stores the bare JID, lower-cased",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), jid: `${r.user.toUpperCase()}@${r.host.toUpperCase()}/Some-Resource`, affiliation: "member" }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_affiliations", args: room, expect: { status: 200, body: exactly((r) => [affiliation(r.user, r.host, "member")]) } }],
  },
  {
    name: "set_room_affiliation none removes the affiliation",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r), affiliate(r, r.userJid, "member")],
    args: (r) => ({ ...room(r), jid: r.userJid, affiliation: "none" }),
    expect: { status: 200, body: OK },
    then: [{ command: "get_room_affiliations", args: room, expect: { status: 200, body: [] } }],
  },
  {
    name: "set_room_affiliation outcast bans an occupant and removes it with 301",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r)],
    occupants: ["user", "other"],
    args: (r) => ({ ...room(r), jid: r.otherJid, affiliation: "outcast" }),
    expect: { status: 200, body: OK },
    receives: [
      { to: "other", what: "the room's bare-JID unavailable", match: roomGone, odd: { note: "the room's own presence, ejabberd's", copy: false } },
      {
        to: "other",
        what: "its own unavailable with 110 and 301, its JID, no reason",
        match: (s, r) => {
          const x = mucUser(s);
          return (
            unavailableFrom(s, `${r.roomJid}/${r.nick.other}`) &&
            x?.size === 1 &&
            sameAttrs(x.get("item"), { jid: r.fullJid.other!, role: "none", affiliation: "outcast" }) &&
            sameCodes(s, [110, 301])
          );
        },
      },
      {
        to: "user",
        what: "the banned occupant's unavailable with 301, no JID (semi-anonymous, not a moderator)",
        match: (s, r) => {
          const x = mucUser(s);
          return (
            unavailableFrom(s, `${r.roomJid}/${r.nick.other}`) &&
            x?.size === 1 &&
            sameAttrs(x.get("item"), { role: "none", affiliation: "outcast" }) &&
            sameCodes(s, [301])
          );
        },
      },
    ],
    then: [
      { command: "get_room_occupants", args: room, expect: { status: 200, body: exactly((r) => [occupant(r, "user", "participant")]) } },
      { command: "get_room_affiliations", args: room, expect: { status: 200, body: exactly((r) => [affiliation(r.other, r.host, "outcast")]) } },
    ],
  },
  {
    name: "set_room_affiliation admin makes an occupant moderator",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    args: (r) => ({ ...room(r), jid: r.userJid, affiliation: "admin" }),
    expect: { status: 200, body: OK },
    receives: [
      {
        to: "user",
        what: "its own presence: moderator, admin, 110",
        match: (s, r) => {
          const x = mucUser(s);
          return (
            s.name === "presence" &&
            s.attrs.type === undefined &&
            s.attrs.from === `${r.roomJid}/${r.nick.user}` &&
            sameAttrs(x?.get("item"), { jid: r.fullJid.user!, role: "moderator", affiliation: "admin" }) &&
            sameCodes(s, [110])
          );
        },
      },
    ],
    then: [{ command: "get_room_occupants", args: room, expect: { status: 200, body: exactly((r) => [occupant(r, "user", "moderator")]) } }],
  },
  {
    name: "set_room_affiliation of a non-occupant tells the moderators in a message",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r), affiliate(r, r.userJid, "admin")],
    occupants: ["user"],
    args: (r) => ({ ...room(r), jid: `${r.other.toUpperCase()}@${r.host}/Res`, affiliation: "member" }),
    expect: { status: 200, body: OK },
    receives: [
      {
        to: "user",
        what: "<message from=room><x muc#user><item jid role=none affiliation=member/></x></message>",
        match: (s, r) =>
          s.name === "message" &&
          s.attrs.from === r.roomJid &&
          s.attrs.type === undefined &&
          sameAttrs(mucUser(s)?.get("item"), { jid: `${r.other.toUpperCase()}@${r.host}/Res`, role: "none", affiliation: "member" }) &&
          statusCodes(s).length === 0,
      },
    ],
    then: [
      {
        command: "get_room_affiliations",
        args: room,
        expect: { status: 200, body: sameMembers((r) => [affiliation(r.user, r.host, "admin"), affiliation(r.other, r.host, "member")]) },
      },
    ],
    odd: { note: "the item's jid is the argument as given, resource and case kept (stored bare and lower-cased)", copy: false },
  },
  {
    name: "set_room_affiliation of an unknown affiliation is Invalid affiliation",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), jid: r.userJid, affiliation: "king" }),
    expect: { status: 400, body: "Invalid affiliation" },
  },
  {
    name: "set_room_affiliation of a malformed JID is a 500",
    command: "set_room_affiliation",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), jid: "not a jid@@", affiliation: "member" }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "jid:decode crashes: 500", copy: false },
  },
  {
    name: "set_room_affiliation of an unknown room is Room doesn't exists",
    command: "set_room_affiliation",
    args: (r) => ({ ...room(r), jid: r.userJid, affiliation: "member" }),
    expect: { status: 400, body: "Room doesn't exists" },
  },

  // get_user_rooms
  {
    name: "get_user_rooms lists the rooms the user is in",
    command: "get_user_rooms",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    args: (r) => ({ user: r.user, host: r.host }),
    expect: { status: 200, body: exactly((r) => [r.roomJid]) },
  },
  {
    name: "get_user_rooms of a user in no room is an empty list",
    command: "get_user_rooms",
    before: (r) => [createRoom(r), affiliate(r, r.userJid, "member")],
    args: (r) => ({ user: r.user, host: r.host }),
    expect: { status: 200, body: [] },
    odd: { note: "occupancy only: an affiliation does not count", copy: true },
  },
  {
    name: "get_user_rooms of an unknown host is an empty list",
    command: "get_user_rooms",
    args: (r) => ({ user: r.user, host: "nohost.invalid" }),
    expect: { status: 200, body: [] },
  },
  {
    name: "get_user_rooms without host names the missing argument",
    command: "get_user_rooms",
    args: (r) => ({ user: r.user }),
    expect: { status: 400, body: "Request have missing argument: host" },
  },

  // send_direct_invitation
  {
    name: "send_direct_invitation sends a XEP-0249 invitation to the bare JID",
    command: "send_direct_invitation",
    before: (r) => [createRoom(r)],
    online: ["other"],
    args: (r) => ({ ...room(r), password: "sesame", reason: "Join us", users: r.otherJid }),
    expect: { status: 200, body: OK },
    receives: [
      {
        to: "other",
        what: "<message from=room><x xmlns=jabber:x:conference jid password reason/></message>",
        match: (s, r) => {
          const x = s.getChild("x", NS_CONFERENCE);
          return (
            s.name === "message" &&
            s.attrs.from === r.roomJid &&
            s.attrs.to === r.otherJid &&
            s.attrs.type === undefined &&
            s.children.length === 1 &&
            sameAttrs(x?.attrs, { xmlns: NS_CONFERENCE, jid: r.roomJid, password: "sesame", reason: "Join us" })
          );
        },
      },
    ],
  },
  {
    name: "send_direct_invitation leaves out an empty password and reason",
    command: "send_direct_invitation",
    before: (r) => [createRoom(r)],
    online: ["other"],
    args: (r) => ({ ...room(r), password: "", reason: "", users: r.otherJid }),
    expect: { status: 200, body: OK },
    receives: [
      {
        to: "other",
        what: "<x xmlns=jabber:x:conference jid/> only",
        match: (s, r) =>
          s.name === "message" &&
          s.attrs.from === r.roomJid &&
          sameAttrs(s.getChild("x", NS_CONFERENCE)?.attrs, { xmlns: NS_CONFERENCE, jid: r.roomJid }),
      },
    ],
  },
  {
    name: "send_direct_invitation takes several users separated by colons and skips occupants",
    command: "send_direct_invitation",
    before: (r) => [createRoom(r)],
    occupants: ["user"],
    online: ["other"],
    args: (r) => ({ ...room(r), password: "", reason: "", users: `${r.userJid}:${r.otherJid}` }),
    expect: { status: 200, body: OK },
    receives: [
      { to: "other", what: "the invitation", match: (s, r) => s.name === "message" && s.attrs.from === r.roomJid && isInvitation(s) },
    ],
    receivesNothing: [
      { to: "user", what: "an invitation to a room it is in", match: (s) => s.name === "message" && isInvitation(s) },
    ],
    odd: { note: "users is one string, JIDs joined by ':'; users already in the room are silently skipped", copy: true },
  },
  {
    name: "send_direct_invitation to an unknown room is room_not_found",
    command: "send_direct_invitation",
    args: (r) => ({ ...room(r), password: "", reason: "", users: r.otherJid }),
    expect: { status: 400, body: ROOM_NOT_FOUND },
  },
  {
    name: "send_direct_invitation without password names the missing argument",
    command: "send_direct_invitation",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), reason: "", users: r.otherJid }),
    expect: { status: 400, body: "Request have missing argument: password" },
  },
  {
    name: "send_direct_invitation to a malformed JID is a 500",
    command: "send_direct_invitation",
    before: (r) => [createRoom(r)],
    args: (r) => ({ ...room(r), password: "", reason: "", users: "not a jid@@" }),
    expect: { status: 500, body: INTERNAL_ERROR },
    odd: { note: "jid:decode crashes: 500", copy: false },
  },

  // temporary rooms
  {
    name: "an empty temporary room made over the API is gone 30 seconds later",
    command: "get_room_occupants_number",
    before: (r) => [createRoom(r)],
    args: room,
    expect: { status: 200, body: { occupants: 0 } },
    waitMs: 31_000,
    then: [{ command: "get_room_occupants_number", args: room, expect: { status: 400, body: ROOM_NOT_FOUND } }],
    odd: { note: "mod_muc_room checks 30 s after start whether it is temporary and empty, and stops", copy: true },
  },
  {
    name: "an empty persistent room made over the API stays",
    command: "get_room_occupants_number",
    before: (r) => [createWithOpts(r, { persistent: "true" })],
    args: room,
    expect: { status: 200, body: { occupants: 0 } },
    waitMs: 31_000,
    then: [{ command: "get_room_occupants_number", args: room, expect: { status: 200, body: { occupants: 0 } } }],
  },

  // the HTTP layer (mod_http_api)
  {
    name: "an unknown command is a 404 Endpoint not found",
    command: "no_such_command",
    expect: { status: 404, body: apiError(40, "Endpoint not found.") },
  },
  {
    name: "a command name that is an Erlang atom but no command is a 400 unknown_command",
    command: "title",
    expect: { status: 400, body: "unknown_command" },
    odd: { note: "depends on whether the name is already an atom in the VM", copy: false },
  },
  {
    name: "no command name is a 400 Missing command name",
    command: "",
    expect: { status: 400, body: apiError(40, "Missing command name.") },
  },
  {
    name: "a path below the command is a 400 Missing command name",
    command: "muc_online_rooms/extra",
    args: (r) => ({ service: r.service }),
    expect: { status: 400, body: apiError(40, "Missing command name.") },
  },
  {
    name: "PUT is a 400 Missing command name",
    command: "muc_online_rooms",
    method: "PUT",
    args: (r) => ({ service: r.service }),
    expect: { status: 400, body: apiError(40, "Missing command name.") },
  },
  {
    name: "a body that is not JSON is a 400 with the string 400 Bad Request",
    command: "create_room",
    rawBody: "not json",
    expect: { status: 400, body: "400 Bad Request" },
  },
  {
    name: "an empty body is a 400 HTML page from the HTTP server",
    command: "create_room",
    rawBody: "",
    expect: { status: 400, contentType: "text/html; charset=utf-8", body: (b) => typeof b === "string" && b.includes("<h1>400 Bad Request</h1>") },
    odd: { note: "the only non-JSON answer: ejabberd_http's own error page", copy: false },
  },
  {
    name: "a JSON array as body is read as no arguments",
    command: "create_room",
    rawBody: "[1,2]",
    expect: { status: 400, body: "Request have missing argument: name" },
  },
  {
    name: "the Content-Type of the request is not looked at",
    command: "muc_online_rooms",
    contentType: "application/x-www-form-urlencoded",
    before: (r) => [createRoom(r)],
    args: (r) => ({ service: r.service }),
    expect: { status: 200, body: listsRoom },
    odd: { note: "curl -d (form Content-Type) works; clients rely on it", copy: true },
  },
  {
    name: "OPTIONS answers the CORS preflight with an empty text/plain 200",
    command: "muc_online_rooms",
    method: "OPTIONS",
    expect: {
      status: 200,
      contentType: "text/plain",
      body: "",
      headers: { ...CORS, "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-max-age": "86400" },
    },
  },

  // authorization
  {
    name: "a call without credentials is a 403 code 32",
    command: "muc_online_rooms",
    auth: "none",
    args: (r) => ({ service: r.service }),
    expect: { status: 403, body: apiError(32, "AccessRules: Account does not have the right to perform the operation."), headers: CORS },
  },
  {
    name: "a wrong password is a 401 code 10",
    command: "muc_online_rooms",
    auth: "wrong-password",
    args: (r) => ({ service: r.service }),
    expect: { status: 401, body: apiError(10, "You are not authorized to call this command.") },
  },
  {
    name: "Basic of an account that does not exist is a 401 code 10",
    command: "muc_online_rooms",
    auth: "unknown-account",
    args: (r) => ({ service: r.service }),
    expect: { status: 401, body: apiError(10, "You are not authorized to call this command.") },
  },
  {
    name: "Basic that is not base64 is a 401 code 10",
    command: "muc_online_rooms",
    auth: "malformed-basic",
    args: (r) => ({ service: r.service }),
    expect: { status: 401, body: apiError(10, "You are not authorized to call this command.") },
  },
  {
    name: "an Authorization scheme other than Basic and Bearer is a 401 code 10",
    command: "muc_online_rooms",
    auth: "other-scheme",
    args: (r) => ({ service: r.service }),
    expect: { status: 401, body: apiError(10, "You are not authorized to call this command.") },
  },
  {
    name: "an unknown Bearer token is a 401 code 10 about OAuth",
    command: "muc_online_rooms",
    auth: "bearer",
    args: (r) => ({ service: r.service }),
    expect: { status: 401, body: apiError(10, "Oauth Token is invalid or expired.") },
  },
  {
    name: "a valid account that is not allowed is a 403 code 32",
    command: "muc_online_rooms",
    auth: "user-account",
    args: (r) => ({ service: r.service }),
    expect: { status: 403, body: apiError(32, "AccessRules: Account does not have the right to perform the operation.") },
  },
  {
    name: "arguments are checked before permissions",
    command: "create_room",
    auth: "none",
    args: (r) => ({ name: r.room, service: r.service }),
    expect: { status: 400, body: "Request have missing argument: host" },
    odd: { note: "an anonymous caller learns argument errors; permission is checked when the command runs", copy: false },
  },
  {
    name: "the body is parsed before the password is checked",
    command: "create_room",
    auth: "wrong-password",
    rawBody: "not json",
    expect: { status: 400, body: "400 Bad Request" },
    odd: { note: "order: JSON, command name, credentials, arguments, permission", copy: false },
  },
  {
    name: "the body is parsed before the command name is looked up",
    command: "no_such_command",
    rawBody: "not json",
    expect: { status: 400, body: "400 Bad Request" },
  },
  {
    name: "an unknown command is a 404 whatever the credentials",
    command: "no_such_command",
    auth: "wrong-password",
    expect: { status: 404, body: apiError(40, "Endpoint not found.") },
  },
];
