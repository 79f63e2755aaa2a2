/**
 * The SQL of everything but the archive's queries: rooms, affiliations,
 * registrations, occupants and meta, one text for SQLite and PostgreSQL.
 * Writes are single statements (a room's deletion several), reads programs.
 * Lists come in key order; occupants in join order.
 */
import type {
  AffiliationRecord,
  OccupantRecord,
  RegistrationRecord,
  RoomListing,
  RoomRecord,
  StoredAffiliation,
  StoredRoom,
} from "../muc/storage.ts";
import { statement, type SqlProgram, type Statement } from "./sql-program.ts";

export function putRoomStatement(r: RoomRecord): Statement {
  return statement(
    `INSERT INTO rooms (jid, persistent, public, name, created_at, data) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (jid) DO UPDATE SET persistent = excluded.persistent, public = excluded.public,
       name = excluded.name, created_at = excluded.created_at, data = excluded.data`,
    r.jid,
    r.persistent,
    r.public,
    r.name,
    r.createdAt,
    JSON.stringify(r.data),
  );
}

/** The archive first: its rows find the room through archive_rooms. */
export function deleteRoomStatements(jid: string): Statement[] {
  return [
    statement("DELETE FROM archive WHERE room_id IN (SELECT id FROM archive_rooms WHERE room = ?)", jid),
    statement("DELETE FROM archive_rooms WHERE room = ?", jid),
    statement("DELETE FROM affiliations WHERE room = ?", jid),
    statement("DELETE FROM registrations WHERE room = ?", jid),
    statement("DELETE FROM occupants WHERE room = ?", jid),
    statement("DELETE FROM rooms WHERE jid = ?", jid),
  ];
}

export function setAffiliationStatement(
  room: string,
  jid: string,
  affiliation: StoredAffiliation | undefined,
  reason: string | undefined,
): Statement {
  if (affiliation === undefined) return statement("DELETE FROM affiliations WHERE room = ? AND jid = ?", room, jid);
  return statement(
    `INSERT INTO affiliations (room, jid, affiliation, reason) VALUES (?, ?, ?, ?)
     ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation, reason = excluded.reason`,
    room,
    jid,
    affiliation,
    reason ?? null,
  );
}

export function setRegistrationStatement(room: string, jid: string, nick: string | undefined): Statement {
  if (nick === undefined) return statement("DELETE FROM registrations WHERE room = ? AND jid = ?", room, jid);
  return statement(
    "INSERT INTO registrations (room, jid, nick) VALUES (?, ?, ?) ON CONFLICT (room, jid) DO UPDATE SET nick = excluded.nick",
    room,
    jid,
    nick,
  );
}

export function putOccupantStatement(room: string, o: OccupantRecord): Statement {
  return statement(
    `INSERT INTO occupants (room, nick, bare, role, sessions, presence, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (room, nick) DO UPDATE SET bare = excluded.bare, role = excluded.role,
       sessions = excluded.sessions, presence = excluded.presence, joined_at = excluded.joined_at`,
    room,
    o.nick,
    o.bare,
    o.role,
    JSON.stringify(o.sessions),
    o.presence,
    o.joinedAt,
  );
}

export function removeOccupantStatement(room: string, nick: string): Statement {
  return statement("DELETE FROM occupants WHERE room = ? AND nick = ?", room, nick);
}

export const CLEAR_OCCUPANTS: Statement = statement("DELETE FROM occupants");

export function setMetaStatement(key: string, value: string): Statement {
  return statement("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
}

export function* loadRoomProgram(jid: string): SqlProgram<StoredRoom | undefined> {
  const [room] = yield statement("SELECT jid, persistent, public, name, created_at, data FROM rooms WHERE jid = ?", jid);
  if (room === undefined) return undefined;
  const affiliations = yield statement("SELECT jid, affiliation, reason FROM affiliations WHERE room = ? ORDER BY jid", jid);
  const registrations = yield statement("SELECT jid, nick FROM registrations WHERE room = ? ORDER BY jid", jid);
  const occupants = yield statement(
    "SELECT nick, bare, role, sessions, presence, joined_at FROM occupants WHERE room = ? ORDER BY joined_at, nick",
    jid,
  );
  return {
    record: {
      jid: room.jid as string,
      persistent: Boolean(room.persistent),
      public: Boolean(room.public),
      name: room.name as string,
      createdAt: Number(room.created_at),
      data: JSON.parse(room.data as string) as Record<string, unknown>,
    },
    affiliations: affiliations.map(
      (a): AffiliationRecord => ({
        jid: a.jid as string,
        affiliation: a.affiliation as StoredAffiliation,
        reason: (a.reason as string | null) ?? undefined,
      }),
    ),
    registrations: registrations.map((r): RegistrationRecord => ({ jid: r.jid as string, nick: r.nick as string })),
    occupants: occupants.map(
      (o): OccupantRecord => ({
        nick: o.nick as string,
        bare: o.bare as string,
        role: o.role as OccupantRecord["role"],
        sessions: JSON.parse(o.sessions as string) as string[],
        presence: o.presence as string,
        joinedAt: Number(o.joined_at),
      }),
    ),
  };
}

export function* occupiedRoomsProgram(): SqlProgram<string[]> {
  const rows = yield statement("SELECT DISTINCT room FROM occupants ORDER BY room");
  return rows.map((r) => r.room as string);
}

export function* listPublicRoomsProgram(
  after: string | undefined,
  limit: number,
  before?: string | undefined,
): SqlProgram<{ rooms: RoomListing[]; total: number }> {
  let rows;
  if (before === undefined) {
    rows = yield after === undefined
      ? statement("SELECT jid, name FROM rooms WHERE public = ? ORDER BY jid LIMIT ?", true, limit)
      : statement("SELECT jid, name FROM rooms WHERE public = ? AND jid > ? ORDER BY jid LIMIT ?", true, after, limit);
  } else {
    // A page before `before` reads backwards from it, then turns round (XEP-0059 §2.5).
    rows = yield before === ""
      ? statement("SELECT jid, name FROM rooms WHERE public = ? ORDER BY jid DESC LIMIT ?", true, limit)
      : statement("SELECT jid, name FROM rooms WHERE public = ? AND jid < ? ORDER BY jid DESC LIMIT ?", true, before, limit);
    rows.reverse();
  }
  const [total] = yield statement("SELECT count(*) AS n FROM rooms WHERE public = ?", true);
  return { rooms: rows.map((r) => ({ jid: r.jid as string, name: r.name as string })), total: Number(total?.n ?? 0) };
}

export function* getMetaProgram(key: string): SqlProgram<string | undefined> {
  const [row] = yield statement("SELECT value FROM meta WHERE key = ?", key);
  return row === undefined ? undefined : (row.value as string);
}
