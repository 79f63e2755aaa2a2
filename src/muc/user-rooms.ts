import type { Room } from "./room.ts";
import type { RoomChange } from "./room-change.ts";

/** What the features may read of the index (MucCore.userRooms). */
export interface UserRoomsView {
  /** How many rooms of the service `bare` is an occupant of now. */
  count(bare: string): number;
  /** Whether `bare` is an occupant (under some nick) of the room `roomJid`. */
  has(bare: string, roomJid: string): boolean;
  /** The rooms `bare` is in, in the order it entered them. */
  rooms(bare: string): string[];
}

/**
 * Which rooms each user (real bare JID) is an occupant of, across every room
 * of the service: what ejabberd's `max_user_conferences` counts. Kept from
 * the room changes as they happen (`apply`), and from rooms brought back with
 * their occupants (`restored`: Room.restore emits nothing), so a join asks a
 * map instead of scanning every room.
 *
 * A room counts once per user however many nicks and sessions the user has
 * in it; nick changes and sessions coming and going change nothing.
 */
export class UserRooms implements UserRoomsView {
  /** bare JID → room JID → the user's occupants (nicks) in that room. */
  readonly #byUser = new Map<string, Map<string, number>>();

  count(bare: string): number {
    return this.#byUser.get(bare)?.size ?? 0;
  }

  has(bare: string, roomJid: string): boolean {
    return this.#byUser.get(bare)?.has(roomJid) ?? false;
  }

  rooms(bare: string): string[] {
    return [...(this.#byUser.get(bare)?.keys() ?? [])];
  }

  /** Follow one change of `room`; the room's state already holds it. Never throws. */
  apply(room: Room, change: RoomChange): void {
    switch (change.kind) {
      case "occupant-joined":
        this.#add(change.occupant.bare, room.jid);
        return;
      case "occupant-left":
        this.#remove(change.occupant.bare, room.jid);
        return;
      case "destroyed":
        // Everyone still inside leaves at once, without an occupant-left each.
        for (const occupant of change.occupants) this.#remove(occupant.bare, room.jid);
        return;
    }
  }

  /** A room came back from storage with its occupants. */
  restored(room: Room): void {
    for (const occupant of room.occupants.values()) this.#add(occupant.bare, room.jid);
  }

  #add(bare: string, roomJid: string): void {
    let rooms = this.#byUser.get(bare);
    if (!rooms) {
      rooms = new Map();
      this.#byUser.set(bare, rooms);
    }
    rooms.set(roomJid, (rooms.get(roomJid) ?? 0) + 1);
  }

  #remove(bare: string, roomJid: string): void {
    const rooms = this.#byUser.get(bare);
    const n = rooms?.get(roomJid);
    if (rooms === undefined || n === undefined) return;
    if (n > 1) {
      rooms.set(roomJid, n - 1);
      return;
    }
    rooms.delete(roomJid);
    if (rooms.size === 0) this.#byUser.delete(bare);
  }
}
