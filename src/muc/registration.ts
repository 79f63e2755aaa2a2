import type { Element } from "@xmpp/xml";
import type { Incoming } from "./context.ts";
import { firstValue, formElement, readForm } from "./data-form.ts";
import { nickConflict } from "./join.ts";
import { NS } from "./namespaces.ts";
import { prepareNick } from "./nick.ts";
import { broadcastPresence } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { element } from "./stanza.ts";

/**
 * XEP-0045 §7.10 registration, minimal: a user registers a nick with a room,
 * which reserves it (others joining with it get `conflict`) and makes the
 * user a member. The form asks for the nick only. This is what
 * `muc_http_auth_authorize_registration` puts behind the HTTP gate.
 */

const ROOMNICK = "muc#register_roomnick";

/** The nick a registration submission asks for, or undefined when the IQ is not a submission. */
export function requestedRegistrationNick(iq: Element): string | undefined {
  if (iq.attrs.type !== "set") return undefined;
  const form = readForm(iq.getChild("query", NS.REGISTER));
  if (!form || form.type !== "submit") return undefined;
  return firstValue(form, ROOMNICK);
}

/**
 * `after` receives what follows the IQ result: when registering (or removing
 * it) changes the affiliation of a user who is in the room, every occupant
 * gets that user's updated presence (§7.10: "If the service changes the
 * user's affiliation and the user is in the room, it MUST send updated
 * presence from this individual to all occupants"; §9.4 likewise for the
 * loss of membership).
 */
export function handleRegister(room: Room, inc: Incoming, query: Element, after: Element[]): Element | undefined {
  const { stanza, from } = inc;
  const current = room.registrations.get(from.bare);
  if (stanza.attrs.type === "get") {
    if (current !== undefined) {
      return element("query", { xmlns: NS.REGISTER }, [element("registered", {}), element("username", {}, [current])]);
    }
    return element("query", { xmlns: NS.REGISTER }, [
      element("instructions", {}, ["Choose the nickname to reserve in this room."]),
      formElement("form", "Room registration", [
        { var: "FORM_TYPE", type: "hidden", value: NS.MUC_REGISTER },
        { var: ROOMNICK, type: "text-single", label: "Desired Nickname", required: true },
      ]),
    ]);
  }
  if (query.getChild("remove")) {
    if (current === undefined) throw refuse.itemNotFound("You are not registered with this room");
    room.registrations.delete(from.bare);
    if (room.affiliationOf(from.bare) === "member") room.affiliations.delete(from.bare);
    showAffiliation(room, from.bare, after);
    return undefined;
  }
  const form = readForm(query);
  if (!form) throw refuse.badRequest("Expected a data form");
  if (form.type === "cancel") return undefined;
  if (form.type !== "submit" || (form.formType !== undefined && form.formType !== NS.MUC_REGISTER)) {
    throw refuse.badRequest("Expected a submitted muc#register form");
  }
  const requested = firstValue(form, ROOMNICK);
  if (!requested) throw refuse.notAcceptable("A nickname is required");
  const prepared = prepareNick(requested);
  if (!("nick" in prepared)) throw prepared;
  const conflict = nickConflict(room, prepared.nick, from.bare);
  if (conflict) throw conflict;
  room.registrations.set(from.bare, prepared.nick);
  if (room.affiliationOf(from.bare) === "none") room.affiliations.set(from.bare, "member");
  showAffiliation(room, from.bare, after);
  return undefined;
}

/** Bring the user's occupants in line with its affiliation, announcing each one that changed. */
function showAffiliation(room: Room, bare: string, out: Element[]): void {
  const affiliation = room.affiliationOf(bare);
  for (const occupant of room.occupants.values()) {
    if (occupant.bare !== bare || occupant.affiliation === affiliation) continue;
    occupant.affiliation = affiliation;
    broadcastPresence(room, occupant, {}, out);
  }
}
