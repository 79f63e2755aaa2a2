import type { Feature } from "../hooks.ts";
import { refuse } from "../stanza-error.ts";
import { parseBoolean } from "./config-fields.ts";

/**
 * §10.1.3 muc_temporary: a room exists while someone is in it, and goes when
 * the last occupant leaves. Owners cannot make rooms persistent here.
 */
export const temporaryRooms: Feature = {
  name: "temporary",
  roomFeatures: () => ["muc_temporary"],
  config: [
    {
      var: "muc#roomconfig_persistentroom",
      type: "boolean",
      label: "Persistent (not available on this service)",
      value: () => "0",
      submit(values) {
        if (parseBoolean(values[0]) === true) throw refuse.notAcceptable("Rooms on this service are temporary");
      },
    },
  ],
  emptied: [{ priority: 0, emptied: () => "destroy" }],
};
