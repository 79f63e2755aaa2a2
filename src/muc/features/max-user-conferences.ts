import type { Feature } from "../hooks.ts";
import { isServiceAdmin } from "../service-admins.ts";
import { refuse } from "../stanza-error.ts";

/**
 * How many rooms one user (real bare JID) may be an occupant of at once,
 * ejabberd's `max_user_conferences` (Prosody has none): a join that would
 * put the user in one room more gets ejabberd's wait/resource-constraint
 * "You have joined too many conferences". Creating a room is joining it, so
 * the same bound covers the rooms a user creates. Another session or nick in
 * a room the user is already in adds no room; service admins are exempt
 * (ejabberd holds even its service admins to it). 0 is no limit.
 *
 * Before the HTTP gate (docs/join-checks.md): the count is the user's own
 * rooms, which it knows, and says nothing of this room; it is read from the
 * service's index (user-rooms.ts), not from a scan of the rooms. It runs
 * again when an allowed join applies: the user may have entered other rooms
 * while the gate decided.
 */
export const maxUserConferences: Feature = {
  name: "max-user-conferences",
  preJoin: [
    {
      // After bans and members-only: a user who may not enter at all learns that first.
      priority: 45,
      beforeGate: true,
      check({ core, room, from }) {
        const max = core.settings.maxUserConferences;
        if (max === 0 || (room && core.userRooms.has(from.bare, room.jid)) || isServiceAdmin(core, from.bare)) return undefined;
        return core.userRooms.count(from.bare) >= max ? refuse.resourceConstraint("You have joined too many conferences") : undefined;
      },
    },
  ],
};
