import type { Affiliation, Role } from "./occupant.ts";

/**
 * What the operator's backend may say about who a user is in a room, with
 * its "allowed" (README "Join authorization"): an affiliation set in the room
 * before the user enters, and the role of this occupancy. Either may be absent.
 * Outcast is not among them: a backend that bars a user says `allowed: false`.
 */
export interface Standing {
  readonly affiliation?: Exclude<Affiliation, "outcast"> | undefined;
  readonly role?: Exclude<Role, "none"> | undefined;
}
