import type { Feature } from "../hooks.ts";
import { textField } from "./config-fields.ts";

/**
 * §10.2 `roomname`, `roomdesc` and `lang`: what the owner publishes about the
 * room. The name is shown to anyone in disco#info (§6.4); the description
 * and language as room-info.ts decides.
 */
export const description: Feature = {
  name: "description",
  config: [
    textField("muc#roomconfig_roomname", "Title", "name"),
    textField("muc#roomconfig_roomdesc", "Description", "description"),
    textField("muc#roomconfig_lang", "Language of discussion", "language"),
  ],
  roomInfo: (room) => [{ var: "muc#roomconfig_roomname", value: room.config.name }],
};

