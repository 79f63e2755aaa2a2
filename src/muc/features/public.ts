import type { Feature } from "../hooks.ts";
import { booleanField } from "./config-fields.ts";

/**
 * §10.2 `publicroom`: a public room (muc_public) is listed in the service's
 * disco#items (§6.3, discovery.ts); a hidden one (muc_hidden) is not.
 */
export const publicRooms: Feature = {
  name: "public",
  config: [booleanField("muc#roomconfig_publicroom", "Include room information in public lists", "public")],
  roomFeatures: (room) => [room.config.public ? "muc_public" : "muc_hidden"],
};
