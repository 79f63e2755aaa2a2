/**
 * The argument checks every store makes before it records anything: a
 * caller's mistake is a TypeError at the call, never a row that a later load
 * turns into garbage.
 */
import type { ArchivedMessage, ArchiveQuery, OccupantRecord, RoomRecord, StoredAffiliation } from "../muc/storage.ts";

const AFFILIATIONS: readonly string[] = ["owner", "admin", "member", "outcast"] satisfies StoredAffiliation[];
const ROLES: readonly string[] = ["moderator", "participant", "visitor"] satisfies OccupantRecord["role"][];

export function checkText(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${what} must be a non-empty string`);
  checkNoNul(value, what);
}

export function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string`);
  checkNoNul(value, what);
}

/** XML cannot carry U+0000 (XML 1.0 §2.2), and PostgreSQL text cannot hold it: no store takes it. */
function checkNoNul(value: string, what: string): void {
  if (value.includes("\0")) throw new TypeError(`${what} must not contain U+0000`);
}

/** Stamps and counts are stored as SQL integers. */
export function checkInteger(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${what} must be an integer${min === 0 ? " >= 0" : ""}`);
  }
}

export function checkRoomRecord(r: RoomRecord): void {
  checkText(r?.jid, "room jid");
  if (typeof r.persistent !== "boolean" || typeof r.public !== "boolean") throw new TypeError("persistent and public must be booleans");
  checkString(r.name, "room name");
  checkInteger(r.createdAt, "createdAt");
  if (typeof r.data !== "object" || r.data === null || Array.isArray(r.data)) throw new TypeError("room data must be an object");
}

export function checkAffiliation(affiliation: unknown, reason: unknown): void {
  if (affiliation !== undefined && !AFFILIATIONS.includes(affiliation as string)) {
    throw new TypeError(`affiliation must be one of ${AFFILIATIONS.join(", ")} or undefined`);
  }
  if (reason !== undefined) checkString(reason, "reason");
}

export function checkOccupant(o: OccupantRecord): void {
  checkText(o?.nick, "occupant nick");
  checkText(o.bare, "occupant bare JID");
  if (!ROLES.includes(o.role)) throw new TypeError(`role must be one of ${ROLES.join(", ")}`);
  if (!Array.isArray(o.sessions) || o.sessions.length === 0) throw new TypeError("sessions must be a non-empty array");
  for (const session of o.sessions) checkText(session, "session");
  checkString(o.presence, "presence");
  checkInteger(o.joinedAt, "joinedAt");
}

export function checkMessage(m: ArchivedMessage): void {
  checkText(m?.id, "message id");
  checkInteger(m.stamp, "message stamp");
  checkText(m.from, "message from");
  checkString(m.bare, "message bare JID");
  checkString(m.stanza, "message stanza");
}

export function checkQuery(q: ArchiveQuery): void {
  checkInteger(q?.max, "max", 0);
  for (const key of ["start", "end"] as const) if (q[key] !== undefined) checkInteger(q[key], key);
  for (const key of ["with", "afterId", "beforeId", "after"] as const) if (q[key] !== undefined) checkText(q[key], key);
  if (q.before !== undefined) checkString(q.before, "before");
  if (q.ids !== undefined) {
    if (!Array.isArray(q.ids)) throw new TypeError("ids must be an array");
    for (const id of q.ids) checkText(id, "id");
  }
}
