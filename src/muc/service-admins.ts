import type { MucCore } from "./hooks.ts";

/**
 * Whether `bare` (a normalised real bare JID) is one of the service's admins
 * (`admins`, Prosody's key): the operator's people, never held to the
 * service's limits — rooms per user (max_user_conferences), who may create
 * rooms (restrict_room_creation) and a room's occupant limit (maxusers).
 */
export function isServiceAdmin(core: MucCore, bare: string): boolean {
  return core.settings.admins.has(bare);
}
