import { parseJid } from "../../jid.ts";
import { changeAffiliation } from "../change-affiliation.ts";
import type { ConfigField, Feature } from "../hooks.ts";
import type { Affiliation } from "../occupant.ts";
import type { Room } from "../room.ts";
import { refuse } from "../stanza-error.ts";

/**
 * §10.2 `roomowners` and `roomadmins` (jid-multi): the full owner and admin
 * lists, unlike muc#admin's deltas (§10.5 note). Submitting one changes
 * affiliations to match — owners first, so a JID moved from the owner list
 * to the admin list ends an admin; the admin list never touches owners. A
 * form that would leave the room without an owner is refused whole with
 * not-acceptable (§10.2), nothing applied.
 */

function listed(room: Room, affiliation: Affiliation): string[] {
  return [...room.affiliations].filter(([, e]) => e.affiliation === affiliation).map(([jid]) => jid);
}

/** The bare JIDs submitted; empty values (clients send one for an empty list) are no one. */
function jids(name: string, values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.trim() === "") continue;
    const jid = parseJid(value.trim());
    if (!jid) throw refuse.notAcceptable(`${name}: '${value}' is not a JID`);
    out.add(jid.bare);
  }
  return out;
}

const OWNERS = "muc#roomconfig_roomowners";
const ADMINS = "muc#roomconfig_roomadmins";

const roomOwners: ConfigField = {
  var: OWNERS,
  type: "jid-multi",
  label: "Room owners",
  value: (room) => listed(room, "owner"),
  submit(values) {
    if (jids(OWNERS, values).size === 0) throw refuse.notAcceptable(`${OWNERS}: the room needs an owner`);
  },
  apply(values, room, core, turn) {
    const wanted = jids(OWNERS, values);
    for (const jid of listed(room, "owner")) if (!wanted.has(jid)) changeAffiliation(core, room, jid, "none", {}, turn);
    for (const jid of wanted) if (room.affiliations.get(jid)?.affiliation !== "owner") changeAffiliation(core, room, jid, "owner", {}, turn);
  },
};

const roomAdmins: ConfigField = {
  var: ADMINS,
  type: "jid-multi",
  label: "Room admins",
  value: (room) => listed(room, "admin"),
  submit(values) {
    jids(ADMINS, values);
  },
  apply(values, room, core, turn) {
    const wanted = jids(ADMINS, values);
    for (const jid of listed(room, "admin")) if (!wanted.has(jid)) changeAffiliation(core, room, jid, "none", {}, turn);
    for (const jid of wanted) {
      const now = room.affiliations.get(jid)?.affiliation;
      if (now !== "admin" && now !== "owner") changeAffiliation(core, room, jid, "admin", {}, turn);
    }
  },
};

export const affiliationFields: Feature = {
  name: "affiliation-fields",
  config: [roomOwners, roomAdmins],
};
