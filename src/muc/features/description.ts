import type { Feature } from "../hooks.ts";
import { textField } from "./config-fields.ts";

/** §10.2 `roomname`, `roomdesc` and `lang`: what the owner publishes about the room, shown to anyone in disco#info (§6.4). */
export const description: Feature = {
  name: "description",
  config: [
    textField("muc#roomconfig_roomname", "Title", "name"),
    textField("muc#roomconfig_roomdesc", "Description", "description"),
    textField("muc#roomconfig_lang", "Language of discussion", "language"),
  ],
  roomInfo: (room) => [
    { var: "muc#roominfo_description", value: room.config.description },
    { var: "muc#roomconfig_roomname", value: room.config.name },
    { var: "muc#roominfo_lang", value: room.config.language },
  ],
};

