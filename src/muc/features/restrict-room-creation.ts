import type { Jid } from "../../jid.ts";
import type { Feature, MucCore } from "../hooks.ts";
import { isServiceAdmin } from "../service-admins.ts";
import { refuse } from "../stanza-error.ts";

/**
 * Who may create a room by joining it (§10.1.1), Prosody's
 * `restrict_room_creation`: `false` anyone; `true` service admins only;
 * `"local"` also users of the service's parent domain (example.org for
 * rooms.example.org — Prosody drops the first label of the component's
 * host). Anyone else gets Prosody's cancel/not-allowed "Room creation is
 * restricted"; rooms that exist are joinable as before, and the HTTP room
 * API's create_room is the operator's, never held to it.
 *
 * Before the HTTP gate (docs/join-checks.md): the refusal tells only that
 * the room does not exist, which disco#info tells anyone, and something of
 * the user itself (its domain, whether it is an admin).
 */

/** The domain whose users may create rooms under `"local"`: the service's domain without its first label, as Prosody computes it. */
export function parentDomain(domain: string): string {
  return domain.replace(/^[^.]+\./, "");
}

/** Whether `user` may create rooms on this service. */
export function mayCreateRooms(core: MucCore, user: Jid): boolean {
  const restrict = core.settings.restrictRoomCreation;
  if (restrict === false || isServiceAdmin(core, user.bare)) return true;
  return restrict === "local" && user.domain === parentDomain(core.domain);
}

export const restrictRoomCreation: Feature = {
  name: "restrict-room-creation",
  preJoin: [
    {
      // Before bans and members-only, which a room that does not exist has neither of.
      priority: 110,
      beforeGate: true,
      check: ({ core, room, from }) => (room || mayCreateRooms(core, from) ? undefined : refuse.notAllowed("Room creation is restricted")),
    },
  ],
};
