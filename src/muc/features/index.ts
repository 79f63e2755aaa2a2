import type { Feature } from "../hooks.ts";
import { admin } from "./admin.ts";
import { affiliationFields } from "./affiliation-fields.ts";
import { archive } from "./archive.ts";
import { bans } from "./bans.ts";
import { configuration } from "./configuration.ts";
import { description } from "./description.ts";
import { discovery } from "./discovery.ts";
import { history } from "./history.ts";
import { invitations } from "./invitations.ts";
import { maxUserConferences } from "./max-user-conferences.ts";
import { maxUsers } from "./max-users.ts";
import { membersOnly } from "./members-only.ts";
import { moderatedRooms } from "./moderated.ts";
import { messageModeration } from "./moderation.ts";
import { occupantIds } from "./occupant-id.ts";
import { password } from "./password.ts";
import { persistence } from "./persistent.ts";
import { ping } from "./ping.ts";
import { privateMessages } from "./private-messages.ts";
import { publicRooms } from "./public.ts";
import { registration } from "./registration.ts";
import { restrictRoomCreation } from "./restrict-room-creation.ts";
import { roomInfo } from "./room-info.ts";
import { selfPing } from "./self-ping.ts";
import { subject } from "./subject.ts";
import { voiceRequests } from "./voice-requests.ts";
import { whois } from "./whois.ts";

/**
 * Every room feature of the service, in the order their fields appear in the
 * configuration form and their vars in disco#info. Hook priorities, not this
 * order, decide when a hook runs.
 */
export const FEATURES: readonly Feature[] = Object.freeze([
  discovery,
  configuration,
  description,
  publicRooms,
  membersOnly,
  password,
  whois,
  maxUsers,
  privateMessages,
  subject,
  roomInfo,
  persistence,
  history,
  archive,
  messageModeration,
  registration,
  moderatedRooms,
  admin,
  bans,
  voiceRequests,
  affiliationFields,
  invitations,
  ping,
  selfPing,
  occupantIds,
  // Service limits at a join: no form field, no disco var.
  restrictRoomCreation,
  maxUserConferences,
]);
