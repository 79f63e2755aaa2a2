/**
 * fast-check generators of what the MUC core writes to storage, from small
 * pools of rooms, JIDs and nicks so that writes collide (replace, remove,
 * delete what another wrote), with names whose byte order and case order
 * differ (the stores must agree on code point order).
 */
import fc from "fast-check";
import type { ArchivedMessage, OccupantRecord, RoomRecord, StoredAffiliation } from "../../src/muc/storage.ts";

export const ROOMS = ["lobby@rooms.test", "Zebra@rooms.test", "café@rooms.test"] as const;
export const JIDS = ["alice@users.test", "Bob@users.test", "zoë@users.test", "users.test"] as const;
export const NICKS = ["alice", "Bob", "Zoë 🎉"] as const;

const room = fc.constantFrom(...ROOMS);
const jid = fc.constantFrom(...JIDS);
const nick = fc.constantFrom(...NICKS);
const text = fc.string({ unit: "grapheme", maxLength: 12 });
const ms = fc.integer({ min: 0, max: 2 ** 42 });

export const roomRecord = (jidOf: fc.Arbitrary<string> = room): fc.Arbitrary<RoomRecord> =>
  fc.record({
    jid: jidOf,
    persistent: fc.boolean(),
    public: fc.boolean(),
    name: text,
    createdAt: ms,
    data: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  });

export const occupantRecord: fc.Arbitrary<OccupantRecord> = fc.record({
  nick,
  bare: jid,
  role: fc.constantFrom("moderator", "participant", "visitor"),
  sessions: fc.uniqueArray(fc.constantFrom("a", "b", "c").map((r) => `someone@users.test/${r}`), { minLength: 1, maxLength: 3 }),
  presence: fc.constantFrom("", "<show>away</show>", "<status>back soon</status><priority>5</priority>"),
  joinedAt: fc.integer({ min: 0, max: 10 }),
});

const affiliation = fc.option(fc.constantFrom<StoredAffiliation>("owner", "admin", "member", "outcast"), { nil: undefined });

/** A message's content; the id is given when it is applied (ids must be new in the room). */
export const messageBody = fc.record({
  stamp: ms,
  from: nick.map((n) => `lobby@rooms.test/${n}`),
  bare: jid,
  stanza: text.map((t) => `<message type='groupchat'><body>${t}</body></message>`),
});

export type WriteOp =
  | { readonly op: "putRoom"; readonly record: RoomRecord }
  | { readonly op: "deleteRoom"; readonly room: string }
  | { readonly op: "setAffiliation"; readonly room: string; readonly jid: string; readonly affiliation: StoredAffiliation | undefined; readonly reason: string | undefined }
  | { readonly op: "setRegistration"; readonly room: string; readonly jid: string; readonly nick: string | undefined }
  | { readonly op: "putOccupant"; readonly room: string; readonly record: OccupantRecord }
  | { readonly op: "removeOccupant"; readonly room: string; readonly nick: string }
  | { readonly op: "clearOccupants" }
  | { readonly op: "archive"; readonly room: string; readonly message: Omit<ArchivedMessage, "id"> }
  /** `pick` chooses among the room's archived ids (or an unknown one). */
  | { readonly op: "replaceArchived"; readonly room: string; readonly pick: number; readonly stanza: string }
  | { readonly op: "setMeta"; readonly key: string; readonly value: string }
  | { readonly op: "expireArchive"; readonly before: number }
  | { readonly op: "commit" };

export const writeOp: fc.Arbitrary<WriteOp> = fc.oneof(
  { arbitrary: roomRecord().map((record) => ({ op: "putRoom" as const, record })), weight: 3 },
  room.map((room) => ({ op: "deleteRoom" as const, room })),
  fc.record({ op: fc.constant("setAffiliation" as const), room, jid, affiliation, reason: fc.option(text, { nil: undefined }) }),
  fc.record({ op: fc.constant("setRegistration" as const), room, jid, nick: fc.option(nick, { nil: undefined }) }),
  { arbitrary: fc.record({ op: fc.constant("putOccupant" as const), room, record: occupantRecord }), weight: 2 },
  fc.record({ op: fc.constant("removeOccupant" as const), room, nick }),
  { arbitrary: fc.constant({ op: "clearOccupants" as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("archive" as const), room, message: messageBody }), weight: 3 },
  fc.record({ op: fc.constant("replaceArchived" as const), room, pick: fc.nat(), stanza: text }),
  fc.record({ op: fc.constant("setMeta" as const), key: fc.constantFrom("secret", "other"), value: text }),
  fc.record({ op: fc.constant("expireArchive" as const), before: ms }),
  { arbitrary: fc.constant({ op: "commit" as const }), weight: 2 },
);

/** A read of any kind, checked against the model where it is made. */
export type ReadOp =
  | { readonly read: "loadRoom" | "recentMessages" | "lastPage"; readonly room: string }
  | { readonly read: "getArchived"; readonly room: string; readonly pick: number }
  | { readonly read: "occupiedRooms" | "listPublicRooms" | "getMeta" };

export const readOp: fc.Arbitrary<ReadOp> = fc.oneof(
  fc.record({ read: fc.constantFrom("loadRoom" as const, "recentMessages" as const, "lastPage" as const), room }),
  fc.record({ read: fc.constant("getArchived" as const), room, pick: fc.nat() }),
  fc.record({ read: fc.constantFrom("occupiedRooms" as const, "listPublicRooms" as const, "getMeta" as const) }),
);

export { room as roomJid, nick as nickName, jid as bareJid, text, ms };
