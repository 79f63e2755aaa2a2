import type { Feature } from "../hooks.ts";
import { booleanField } from "./config-fields.ts";

/**
 * §10.2 `moderatedroom` (muc_moderated): only occupants with voice speak.
 * Newcomers without an affiliation enter as visitors (§5.1.2, table 4);
 * members and above as before. Visitors' groupchat messages are refused
 * with forbidden (message-handler.ts, §5.1.1); moderators grant voice with
 * muc#admin (features/admin.ts) or by approving a voice request
 * (features/voice-requests.ts). The default is `muc_room_default_moderated`.
 */
export const moderatedRooms: Feature = {
  name: "moderated",
  config: [booleanField("muc#roomconfig_moderatedroom", "Make room moderated", "moderated")],
  roomFeatures: (room) => [room.config.moderated ? "muc_moderated" : "muc_unmoderated"],
  defaultRole: [{ priority: 0, role: (room, _bare, affiliation) => (room.config.moderated && affiliation === "none" ? "visitor" : undefined) }],
};
