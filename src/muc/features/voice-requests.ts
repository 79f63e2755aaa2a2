import { booleanValue, firstValue, formElement, readForm } from "../data-form.ts";
import type { Feature, RoomMessageContext } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { roleVerdict } from "../privileges.ts";
import { refuse } from "../stanza-error.ts";
import { addressed, element } from "../stanza.ts";

/**
 * §7.13 requesting voice and §8.6 approving it. A visitor submits the
 * muc#request form to the room; every moderator's every session gets it as
 * an approval form (who, under which nick, and `muc#request_allow`); a
 * moderator who submits it back with `muc#request_allow` true grants the
 * visitor voice, as `<item role='participant'/>` would (§8.3). A request
 * from someone who has voice already is dropped: there is nothing to grant.
 */

const ROLE = "muc#role";
const JID = "muc#jid";
const NICK = "muc#roomnick";
const ALLOW = "muc#request_allow";

function handle({ room, occupant, stanza, from, turn, core }: RoomMessageContext): boolean {
  const form = readForm(stanza);
  if (!form || form.formType !== NS.MUC_REQUEST) return false;
  if (form.type !== "submit") throw refuse.badRequest("Expected a submitted muc#request form");
  if (!occupant) throw refuse.notInRoom();
  if (form.values.has(ALLOW)) {
    // §8.6: a moderator answers a request.
    if (!occupant.isModerator) throw refuse.forbidden("Only moderators approve voice requests");
    if (booleanValue(form, ALLOW) !== true) return true;
    const nick = firstValue(form, NICK);
    const target = nick === undefined ? undefined : room.occupants.get(nick);
    if (!target) throw refuse.itemNotFound("The occupant who asked for voice is not in the room");
    if (target.role !== "visitor") return true;
    const verdict = roleVerdict({
      actor: { affiliation: occupant.affiliation, role: occupant.role },
      target: { affiliation: target.affiliation, role: target.role },
      requested: "participant",
    });
    if (verdict !== "allowed") throw refuse.forbidden("You may not grant voice");
    room.setRole(target, "participant", { actor: occupant.nick }, turn);
    return true;
  }
  const requested = firstValue(form, ROLE) ?? "participant";
  if (requested !== "participant") throw refuse.notAcceptable("Only voice (the participant role) may be requested");
  if (occupant.role !== "visitor") return true;
  const approval = element("message", { from: room.jid, id: core.newId() }, [
    formElement("form", "Voice request", [
      { var: "FORM_TYPE", type: "hidden", value: NS.MUC_REQUEST },
      { var: ROLE, type: "list-single", label: "Requested role", value: "participant" },
      { var: JID, type: "jid-single", label: "User ID", value: from.full },
      { var: NICK, type: "text-single", label: "Room Nickname", value: occupant.nick },
      { var: ALLOW, type: "boolean", label: "Grant voice to this person?", value: "false" },
    ]),
  ]);
  for (const moderator of room.occupants.values()) {
    if (!moderator.isModerator) continue;
    for (const session of moderator.sessions) turn.out.push(addressed(approval, session));
  }
  return true;
}

export const voiceRequests: Feature = {
  name: "voice-requests",
  roomMessage: [{ priority: 0, handle }],
};
