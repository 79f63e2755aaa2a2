import type { Feature } from "../hooks.ts";
import { archive } from "./archive.ts";
import { configuration } from "./configuration.ts";
import { description } from "./description.ts";
import { discovery } from "./discovery.ts";
import { history } from "./history.ts";
import { invitations } from "./invitations.ts";
import { kicks } from "./kick.ts";
import { occupantIds } from "./occupant-id.ts";
import { outcasts } from "./outcasts.ts";
import { persistence } from "./persistent.ts";
import { ping } from "./ping.ts";
import { publicRooms } from "./public.ts";
import { registration } from "./registration.ts";
import { selfPing } from "./self-ping.ts";
import { subject } from "./subject.ts";

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
  subject,
  persistence,
  history,
  archive,
  registration,
  kicks,
  invitations,
  ping,
  selfPing,
  occupantIds,
  outcasts,
]);
