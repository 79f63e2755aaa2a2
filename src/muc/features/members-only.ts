import { parseJid } from "../../jid.ts";
import { NEXT, type Feature, type JoinAttempt, type PreJoinCheck } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { affiliationRank } from "../occupant.ts";
import type { Room } from "../room.ts";
import { refuse } from "../stanza-error.ts";
import type { Turn } from "../turn.ts";
import { booleanField } from "./config-fields.ts";

/**
 * §7.2.5 members-only rooms (muc_membersonly; otherwise muc_open): a user
 * who is not a member, admin or owner gets registration-required. Whoever
 * stops being a member while inside is removed (§9.4, status 321); a room
 * that becomes members-only removes the non-members inside (§10.2, 322).
 *
 * §7.8 invitations in a members-only room make the invitee a member. Who may
 * invite there: admins and owners; members too when the owner allows
 * invitations (`allowinvites`, Prosody's `allowmemberinvites`). In open rooms
 * every occupant may invite, as before.
 */

function isMember(room: Room, bare: string): boolean {
  return affiliationRank(room.affiliationOf(bare)) >= affiliationRank("member");
}

/**
 * Run before the gate too: the refusal says the user is not a member, which
 * the user can tell (disco#info says muc_membersonly to anyone) and says
 * nothing of who is inside (docs/join-checks.md). Outcasts are left to the
 * ban check, which runs first wherever it is: their refusal is forbidden.
 */
const notAMember: PreJoinCheck = {
  priority: 50,
  beforeGate: true,
  check: ({ room, affiliation }: JoinAttempt) =>
    room?.config.membersOnly && affiliation === "none" ? refuse.registrationRequired("This room is members-only") : undefined,
};

/** When the join applies: anyone below member, outcasts too should no ban check have refused them. */
const belowMember: PreJoinCheck = {
  priority: 49,
  check: ({ room, affiliation }: JoinAttempt) =>
    room?.config.membersOnly && affiliationRank(affiliation) < affiliationRank("member") ? refuse.registrationRequired("This room is members-only") : undefined,
};

function removeNonMembers(room: Room, cause: "affiliation" | "members-only", turn: Turn, only?: string): void {
  for (const occupant of [...room.occupants.values()]) {
    if (only !== undefined && occupant.bare !== only) continue;
    if (isMember(room, occupant.bare) || room.occupants.get(occupant.nick) !== occupant) continue;
    room.remove(occupant, { cause }, turn);
  }
}

export const membersOnly: Feature = {
  name: "members-only",
  config: [
    booleanField("muc#roomconfig_membersonly", "Only allow members to join", "membersOnly"),
    {
      ...booleanField("muc#roomconfig_allowinvites", "Allow members to invite new members", "allowInvites"),
      aliases: ["{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites"],
    },
  ],
  roomFeatures: (room) => [room.config.membersOnly ? "muc_membersonly" : "muc_open"],
  roomInfo: (room) => [{ var: "muc#roomconfig_allowinvites", value: !room.config.membersOnly || room.config.allowInvites ? "1" : "0", type: "boolean" }],
  iq: [
    {
      // §7.10 registration makes a member (registration.ts): in a members-only room only the list's keepers do that.
      to: "room",
      type: "set",
      xmlns: NS.REGISTER,
      name: "query",
      priority: 10,
      handle({ room, from, payload }) {
        if (room!.config.membersOnly && !payload.getChild("remove") && !isMember(room!, from.bare)) {
          throw refuse.registrationRequired("Only members may register with this room");
        }
        return NEXT;
      },
    },
  ],
  preJoin: [notAMember, belowMember],
  roomMessage: [
    {
      // Before invitations.ts forwards the invitation (priority 0).
      priority: 10,
      handle({ room, occupant, stanza, turn }) {
        const invite = stanza.getChild("x", NS.MUC_USER)?.getChild("invite");
        if (!invite || !room.config.membersOnly || !occupant) return false;
        const required = room.config.allowInvites ? "member" : "admin";
        if (affiliationRank(occupant.affiliation) < affiliationRank(required)) {
          throw refuse.forbidden(room.config.allowInvites ? "Only members may invite" : "Only admins and owners may invite to this room");
        }
        const invitee = parseJid(invite.attrs.to ?? "");
        if (!invitee) return false; // invitations.ts refuses it
        if (room.affiliationOf(invitee.bare) === "none") room.setAffiliation(invitee.bare, "member", { reason: `Invited by ${occupant.bare}` }, turn);
        return false;
      },
    },
  ],
  changed(room, change, turn) {
    if (!room.config.membersOnly) return;
    // Outcasts are the ban's to remove (301), not this.
    if (change.kind === "affiliation-changed" && change.affiliation === "none") {
      removeNonMembers(room, "affiliation", turn, change.jid);
    } else if (change.kind === "config-changed" && !change.previous.membersOnly) {
      removeNonMembers(room, "members-only", turn);
    }
  },
};
