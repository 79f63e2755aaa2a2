import type { ChangeListener } from "../muc/service.ts";
import type { Room } from "../muc/room.ts";
import type { RoomChange } from "../muc/room-change.ts";
import type { RoomConfig } from "../muc/room-config.ts";

/**
 * What the operator's backend hears of a room (README "Events"): one JSON
 * object per fact, with an id that stays the same over every delivery
 * attempt, so the backend can drop a duplicate.
 */
export type RoomEventType =
  | "room_created"
  | "room_destroyed"
  | "room_configured"
  | "occupant_joined"
  | "occupant_left"
  | "occupant_kicked"
  | "occupant_banned"
  | "affiliation_changed";

export interface RoomEvent {
  /** Unique per event, kept over retries. */
  readonly id: string;
  readonly type: RoomEventType;
  /** ISO 8601, UTC, when it happened. */
  readonly time: string;
  /** The room's bare JID. */
  readonly room: string;
  readonly nick?: string;
  /** The real bare JID of the user concerned. */
  readonly jid?: string;
  readonly reason?: string;
  /** Nick of the moderator who acted. */
  readonly actor?: string;
  readonly role?: string;
  readonly affiliation?: string;
  readonly previous?: string;
  /** Why an occupant left: leave, error (its server bounced a stanza), shutdown. */
  readonly cause?: string;
  /** room_configured: the settings now, and which changed. */
  readonly config?: RoomConfig;
  readonly changed?: readonly string[];
}

type Fields = Omit<RoomEvent, "id" | "time" | "room">;

/** The event a room change is, if the backend hears of it (occupant-level changes only, not each session). */
export function eventFields(room: Room, change: RoomChange): Fields | undefined {
  switch (change.kind) {
    case "created":
      // A room made over the HTTP API is created by the service itself: no user.
      return { type: "room_created", ...(change.creator.includes("@") ? { jid: change.creator } : {}) };
    case "destroyed":
      return { type: "room_destroyed", ...(change.reason ? { reason: change.reason } : {}) };
    case "config-changed": {
      const changed = (Object.keys(change.config) as (keyof RoomConfig)[]).filter((k) => !Object.is(change.config[k], change.previous[k]));
      return changed.length === 0 ? undefined : { type: "room_configured", config: change.config, changed };
    }
    case "occupant-joined": {
      const o = change.occupant;
      return { type: "occupant_joined", nick: o.nick, jid: o.bare, role: o.role, affiliation: room.affiliationOf(o.bare) };
    }
    case "occupant-left": {
      const o = change.occupant;
      const who = { nick: o.nick, jid: o.bare, ...(change.reason ? { reason: change.reason } : {}), ...(change.actor ? { actor: change.actor } : {}) };
      if (change.cause === "kick") return { type: "occupant_kicked", ...who };
      if (change.cause === "ban") return { type: "occupant_banned", ...who };
      return { type: "occupant_left", ...who, cause: change.cause };
    }
    case "affiliation-changed":
      return {
        type: "affiliation_changed",
        jid: change.jid,
        affiliation: change.affiliation,
        previous: change.previous,
        ...(change.reason ? { reason: change.reason } : {}),
        ...(change.actor ? { actor: change.actor } : {}),
      };
    default:
      return undefined;
  }
}

/**
 * A MucService subscriber that turns room changes into events and hands
 * them to `publish` (the webhook queue). It only builds a small object: the
 * core never waits for the backend.
 */
export function roomEvents(publish: (event: RoomEvent) => void, newId: () => string): ChangeListener {
  return (room, change, turn) => {
    const fields = eventFields(room, change);
    if (!fields) return;
    publish({ id: newId(), time: new Date(turn.now).toISOString(), room: room.jid, ...fields });
  };
}
