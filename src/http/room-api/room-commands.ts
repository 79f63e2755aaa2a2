import type { Element } from "@xmpp/xml";
import { parseJid, type Jid } from "../../jid.ts";
import type { Affiliation } from "../../muc/occupant.ts";
import type { Room } from "../../muc/room.ts";
import type { MucService } from "../../muc/service.ts";
import { ApiError } from "./api-error.ts";
import type { ArgumentSpec, Arguments, OptionList } from "./api-arguments.ts";
import { roomOptions, withOptions } from "./room-options.ts";

/**
 * mod_muc_admin's room commands (ejabberd 23.x argument names, API versions
 * 0 and 1), each acting through a MucService command exactly as the same
 * change from an XMPP client would: same broadcasts, same records. Answers
 * and errors word for word as docs/room-api-ejabberd.md records them, except
 * where ejabberd answers bad input with a 500 (a 400 with a string here).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The MUC commands the room API uses. */
export type RoomApiService = Pick<
  MucService,
  "domain" | "settings" | "room" | "rooms" | "openRoom" | "destroy" | "configure" | "setAffiliation" | "inviteDirectly"
>;

export interface CommandContext {
  readonly service: RoomApiService;
  /** Brings a stored room into memory before it is looked at (the room loader); `false` when storage failed. */
  readonly prepare: (roomJid: string) => boolean | Promise<boolean>;
  /** Sends what a command produced and makes what it recorded durable. */
  readonly deliver: (stanzas: Element[]) => Promise<void>;
  /** Runs `fn` after `ms` (a timer; injectable); what it throws or rejects with is logged. */
  readonly schedule: (ms: number, fn: () => unknown) => void;
}

/** ejabberd stops an empty temporary room 30 s after it started (mod_muc_room's "temporary and empty" check). */
export const UNUSED_ROOM_MS = 30_000;

export interface RoomCommand {
  readonly args: readonly ArgumentSpec[];
  run(args: Arguments, context: CommandContext): Promise<Json>;
}

/** A rescode command's success (1 would be failure). */
const OK = 0;
const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "outcast", "none"];

const s = (name: string): ArgumentSpec => ({ name });
const ROOM_ARGS = [s("name"), s("service")] as const;

function str(args: Arguments, name: string): string {
  return args[name] as string;
}

/** The room `name@service`, if the two make a room JID of this service. */
function roomJidOf(args: Arguments, service: RoomApiService): Jid | undefined {
  const name = str(args, "name");
  const domain = parseJid(str(args, "service"));
  if (!domain || domain.local || domain.resource || domain.domain !== service.domain) return undefined;
  if (name.includes("@") || name.includes("/")) return undefined;
  const jid = parseJid(`${name}@${domain.domain}`);
  return jid && jid.local && !jid.resource ? jid : undefined;
}

/** The room the arguments name, in memory (loaded from storage if need be), or the command's own "no such room". */
async function findRoom(args: Arguments, context: CommandContext, notFound: string): Promise<Room> {
  const jid = roomJidOf(args, context.service);
  if (!jid) throw new ApiError(400, notFound);
  await ready(jid.bare, context);
  const room = context.service.room(jid.bare);
  if (!room) throw new ApiError(400, notFound);
  return room;
}

async function ready(roomJid: string, context: CommandContext): Promise<void> {
  if (!(await context.prepare(roomJid))) throw new ApiError(503, "The room could not be loaded from storage; try again later");
}

async function createRoom(args: Arguments, context: CommandContext, options: OptionList): Promise<Json> {
  const domain = parseJid(str(args, "service"));
  if (!domain || domain.local || domain.resource || domain.domain !== context.service.domain) throw new ApiError(400, "Invalid 'service'");
  const jid = roomJidOf(args, context.service);
  if (!jid) throw new ApiError(400, "Invalid 'name'");
  // `host` is the virtual host the service belongs to; mucgate serves one domain for any host, so it is only checked for form.
  const host = parseJid(str(args, "host"));
  if (!host || host.local || host.resource) throw new ApiError(400, "Invalid 'host'");
  await ready(jid.bare, context);
  if (context.service.room(jid.bare)) throw new ApiError(400, "Room already exists");
  const out: Element[] = [];
  // A refused option throws before the room exists: nothing is created.
  const room = context.service.openRoom(jid.bare, out, (defaults) => withOptions(defaults, options, "ignore", context.service.settings));
  if (!room) throw new ApiError(400, "Room already exists");
  await context.deliver(out);
  // A temporary room goes when its last occupant leaves (§10.1.3); one nobody entered would stay forever.
  context.schedule(UNUSED_ROOM_MS, () => {
    if (context.service.room(room.jid) !== room || !room.isEmpty || room.config.persistent) return undefined;
    const gone: Element[] = [];
    context.service.destroy(room.jid, {}, gone);
    return context.deliver(gone);
  });
  return OK;
}

/** A bare user JID of an argument, normalised; `undefined` when it is none. */
function userJid(text: string): string | undefined {
  const jid = parseJid(text.trim());
  return jid && jid.local ? jid.bare : undefined;
}

export const ROOM_COMMANDS: ReadonlyMap<string, RoomCommand> = new Map<string, RoomCommand>([
  ["create_room", { args: [...ROOM_ARGS, s("host")], run: (args, c) => createRoom(args, c, []) }],
  [
    "create_room_with_opts",
    {
      args: [...ROOM_ARGS, s("host"), { name: "options", kind: "options", optional: true }],
      run: (args, c) => createRoom(args, c, (args.options as OptionList | undefined) ?? []),
    },
  ],
  [
    "destroy_room",
    {
      args: ROOM_ARGS,
      async run(args, c) {
        const room = await findRoom(args, c, "Room doesn't exists");
        const out: Element[] = [];
        c.service.destroy(room.jid, {}, out);
        await c.deliver(out);
        return OK;
      },
    },
  ],
  [
    "muc_online_rooms",
    {
      args: [s("service")],
      async run(args, c) {
        const service = str(args, "service");
        if (service !== "global" && parseJid(service)?.bare !== c.service.domain) throw new ApiError(400, "Invalid 'service'");
        return [...c.service.rooms.keys()];
      },
    },
  ],
  [
    "get_room_occupants",
    {
      args: ROOM_ARGS,
      async run(args, c) {
        const room = await findRoom(args, c, "room_not_found");
        const list: Json[] = [];
        for (const [session, occupant] of room.sessions) list.push({ jid: session, nick: occupant.nick, role: occupant.role });
        return list;
      },
    },
  ],
  [
    "get_room_occupants_number",
    {
      args: ROOM_ARGS,
      async run(args, c) {
        const room = await findRoom(args, c, "room_not_found");
        return { occupants: room.occupants.size };
      },
    },
  ],
  [
    "get_room_options",
    {
      args: ROOM_ARGS,
      async run(args, c) {
        // ejabberd answers an unknown room with an empty object, not an error.
        const jid = roomJidOf(args, c.service);
        if (!jid) return {};
        await ready(jid.bare, c);
        const room = c.service.room(jid.bare);
        return room ? roomOptions(room.config) : {};
      },
    },
  ],
  [
    "change_room_option",
    {
      args: [...ROOM_ARGS, s("option"), s("value")],
      async run(args, c) {
        const room = await findRoom(args, c, "Room not found");
        const config = withOptions(room.config, [[str(args, "option"), str(args, "value")]], "refuse", c.service.settings);
        const out: Element[] = [];
        c.service.configure(room.jid, config, out);
        await c.deliver(out);
        return OK;
      },
    },
  ],
  [
    "get_room_affiliations",
    {
      args: ROOM_ARGS,
      async run(args, c) {
        const room = await findRoom(args, c, "The room does not exist.");
        const list: Json[] = [];
        for (const [jid, entry] of room.affiliations) {
          const at = jid.indexOf("@");
          list.push({ username: at === -1 ? "" : jid.slice(0, at), domain: jid.slice(at + 1), affiliation: entry.affiliation, reason: entry.reason ?? "" });
        }
        return list;
      },
    },
  ],
  [
    "set_room_affiliation",
    {
      args: [...ROOM_ARGS, s("jid"), s("affiliation")],
      async run(args, c) {
        const room = await findRoom(args, c, "Room doesn't exists");
        const affiliation = str(args, "affiliation") as Affiliation;
        if (!AFFILIATIONS.includes(affiliation)) throw new ApiError(400, "Invalid affiliation");
        const jid = parseJid(str(args, "jid"));
        if (!jid) throw new ApiError(400, "Invalid 'jid'");
        const out: Element[] = [];
        c.service.setAffiliation(room.jid, jid.bare, affiliation, undefined, out);
        await c.deliver(out);
        return OK;
      },
    },
  ],
  [
    "get_user_rooms",
    {
      args: [s("user"), s("host")],
      async run(args, c) {
        const bare = userJid(`${str(args, "user")}@${str(args, "host")}`);
        if (!bare) return [];
        const rooms: Json[] = [];
        for (const room of c.service.rooms.values()) {
          for (const occupant of room.occupants.values()) {
            if (occupant.bare === bare) {
              rooms.push(room.jid);
              break;
            }
          }
        }
        return rooms;
      },
    },
  ],
  [
    "send_direct_invitation",
    {
      args: [...ROOM_ARGS, s("password"), s("reason"), s("users")],
      async run(args, c) {
        const room = await findRoom(args, c, "room_not_found");
        // ejabberd's `users` is one string, the JIDs joined by ':'.
        const users: string[] = [];
        for (const part of str(args, "users").split(":")) {
          if (part.trim() === "") continue;
          const bare = userJid(part);
          if (!bare) throw new ApiError(400, `Invalid 'users': ${JSON.stringify(part)} is not a JID`);
          users.push(bare);
        }
        const out: Element[] = [];
        c.service.inviteDirectly(room.jid, users, { password: str(args, "password"), reason: str(args, "reason") }, out);
        await c.deliver(out);
        return OK;
      },
    },
  ],
]);
