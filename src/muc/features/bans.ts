import type { Feature } from "../hooks.ts";
import { refuse } from "../stanza-error.ts";

/**
 * §9.1 bans: an outcast (its bare JID's record, or its domain's, §9.2) may
 * not enter (forbidden, §7.2.7) nor register a nick (§5.2). The join check
 * runs before the HTTP gate: a banned user's join costs no request, whatever
 * the authorization service would say. Removing outcasts who are in the room
 * is part of the affiliation change (change-affiliation.ts).
 */
export const bans: Feature = {
  name: "bans",
  preJoin: [
    {
      priority: 100,
      beforeGate: true,
      check: ({ affiliation }) => (affiliation === "outcast" ? refuse.forbidden("You are banned from this room") : undefined),
    },
  ],
  nickCheck: [
    {
      priority: 100,
      check: (room, _nick, bare) => (room.affiliationOf(bare) === "outcast" ? refuse.forbidden("You are banned from this room") : undefined),
    },
  ],
};
