import type { Feature } from "../hooks.ts";
import { booleanField } from "./config-fields.ts";

/**
 * §10.2 `persistentroom`: a persistent room (muc_persistent) outlives its last
 * occupant — it leaves memory and waits in storage, with its configuration,
 * affiliations, registrations, subject and archive, for its next stanza; a
 * temporary room (muc_temporary) is destroyed when the last occupant leaves
 * (§10.1.3). The default is `muc_room_default_persistent`.
 */
export const persistence: Feature = {
  name: "persistent",
  roomFeatures: (room) => [room.config.persistent ? "muc_persistent" : "muc_temporary"],
  config: [booleanField("muc#roomconfig_persistentroom", "Make room persistent", "persistent")],
  emptied: [{ priority: 0, emptied: (room) => (room.config.persistent ? "evict" : "destroy") }],
};
