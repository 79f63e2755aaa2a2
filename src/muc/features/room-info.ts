import type { Asker, Feature, InfoField } from "../hooks.ts";
import type { Room } from "../room.ts";

/**
 * The §6.4 muc#roominfo fields about what the room is like inside: its
 * description, language, subject and head count. A public room shows them
 * to anyone, as Prosody does, so room browsers can show them; a hidden or
 * members-only room only to its occupants — a user kept out learns nothing
 * of it there.
 */
export function showsInside(room: Room, asker: Asker): boolean {
  return asker === "occupant" || (room.config.public && !room.config.membersOnly);
}

export const roomInfo: Feature = {
  name: "room-info",
  roomInfo(room, asker): InfoField[] {
    if (!showsInside(room, asker)) return [];
    return [
      { var: "muc#roominfo_description", value: room.config.description },
      { var: "muc#roominfo_lang", value: room.config.language },
      { var: "muc#roominfo_subject", value: room.subject?.text ?? "" },
      { var: "muc#roominfo_occupants", value: String(room.occupants.size) },
    ];
  },
};
