import type { Feature } from "../hooks.ts";
import type { Role } from "../occupant.ts";
import type { RoomConfig } from "../room-config.ts";
import { refuse } from "../stanza-error.ts";
import { listField } from "./config-fields.ts";

/**
 * §10.2 `allowpm` (Prosody's values): who may send private messages (§7.5)
 * — anyone, participants (anyone with voice), moderators, or nobody. A
 * message the room does not allow gets forbidden and is not delivered.
 */

const MAY_SEND: Record<RoomConfig["allowPm"], readonly Role[]> = {
  anyone: ["moderator", "participant", "visitor"],
  participants: ["moderator", "participant"],
  moderators: ["moderator"],
  none: [],
};

export const privateMessages: Feature = {
  name: "private-messages",
  config: [
    listField("muc#roomconfig_allowpm", "Who may send private messages", "allowPm", [
      { value: "anyone", label: "Everyone" },
      { value: "participants", label: "Participants (anyone with voice)" },
      { value: "moderators", label: "Moderators" },
      { value: "none", label: "Nobody" },
    ]),
  ],
  roomInfo: (room) => [{ var: "muc#roomconfig_allowpm", value: room.config.allowPm, type: "list-single" }],
  privateMessage: [
    {
      priority: 0,
      check({ room, occupant }) {
        if (!(MAY_SEND[room.config.allowPm] ?? MAY_SEND.anyone).includes(occupant.role)) {
          throw refuse.forbidden("You may not send private messages in this room");
        }
      },
    },
  ],
};
