import type { Feature } from "../hooks.ts";
import { refuse } from "../stanza-error.ts";

/**
 * §7.2.8: a banned user (affiliation outcast) gets `forbidden` and does not
 * enter. The smallest part of §9.1 banning, so that the room API's
 * set_room_affiliation outcast keeps the user out; the muc#admin ban list
 * itself belongs to the affiliations feature.
 */
export const outcasts: Feature = {
  name: "outcasts",
  preJoin: [
    {
      priority: 100,
      check: ({ affiliation }) => (affiliation === "outcast" ? refuse.forbidden("You are banned from this room") : undefined),
    },
  ],
};
