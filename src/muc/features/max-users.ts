import type { ConfigOption, Feature, MucCore } from "../hooks.ts";
import { affiliationRank } from "../occupant.ts";
import type { Room } from "../room.ts";
import { isServiceAdmin } from "../service-admins.ts";
import { refuse } from "../stanza-error.ts";
import { unacceptable } from "./config-fields.ts";

/**
 * §10.2 `maxusers`: the most occupants (nicks) a room holds at once. The one
 * too many gets service-unavailable (§7.2.10); owners and admins, and the
 * service's admins (`admins`), are never held to it. New rooms start with
 * `muc_room_default_max_occupants`; rooms stored before keep their own
 * value. The operator's `muc_max_occupants` caps every room: the form
 * refuses a larger value, or "none", naming the field. 0 is "none".
 */

const FIELD = "muc#roomconfig_maxusers";
const CHOICES = [5, 10, 20, 30, 50, 100, 200, 500, 1000];

/** The limit that holds now: the room's, within the service's cap; 0 for none. */
export function maxUsersOf(room: Room, core: MucCore): number {
  const cap = core.settings.maxOccupants;
  const own = room.config.maxUsers;
  if (cap === 0) return own;
  return own === 0 ? cap : Math.min(own, cap);
}

function options(core: MucCore): ConfigOption[] {
  const cap = core.settings.maxOccupants;
  const values = CHOICES.filter((n) => cap === 0 || n < cap).map(String);
  if (cap !== 0) values.push(String(cap));
  else values.push("none");
  return values.map((value) => ({ value, label: value === "none" ? "No limit" : value }));
}

export const maxUsers: Feature = {
  name: "max-users",
  config: [
    {
      var: FIELD,
      type: "list-single",
      label: "Maximum number of participants",
      options,
      // What holds now, so that a client sending the form back unchanged is never refused.
      value: (room, core) => {
        const max = maxUsersOf(room, core);
        return max === 0 ? "none" : String(max);
      },
      submit(values, draft, _room, core) {
        const text = values[0]?.trim().toLowerCase();
        if (text === undefined || text === "") return;
        const cap = core.settings.maxOccupants;
        const expected = cap === 0 ? "a whole number from 1, or none" : `a whole number from 1 to ${cap}`;
        const n = text === "none" || text === "0" ? 0 : /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
        if (Number.isNaN(n) || (cap !== 0 && (n === 0 || n > cap))) throw unacceptable(FIELD, expected);
        draft.maxUsers = n;
      },
    },
  ],
  preJoin: [
    {
      priority: 30,
      check({ core, room, from, nick, affiliation }) {
        if (!room || room.occupants.has(nick) || affiliationRank(affiliation) >= affiliationRank("admin") || isServiceAdmin(core, from.bare)) return undefined;
        const max = maxUsersOf(room, core);
        return max !== 0 && room.occupants.size >= max ? refuse.serviceUnavailable("The room is full") : undefined;
      },
    },
  ],
};
