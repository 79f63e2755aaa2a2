import type { Element } from "@xmpp/xml";
import { firstValue, formElement, readForm } from "../data-form.ts";
import type { Feature, IqContext } from "../hooks.ts";
import { nickConflict } from "../join.ts";
import { NS } from "../namespaces.ts";
import { prepareNick } from "../nick.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * XEP-0045 §7.10 registration, minimal: a user registers a nick with a room,
 * which reserves it (others joining with it get `conflict`) and makes the
 * user a member. The form asks for the nick only. This is what
 * `muc_http_auth_authorize_registration` puts behind the HTTP gate (the
 * route's `entryNick`).
 *
 * When registering (or removing it) changes the affiliation of a user in the
 * room, every occupant gets that user's updated presence after the result
 * (§7.10, §9.4): the broadcaster does it from the affiliation change.
 */

const ROOMNICK = "muc#register_roomnick";

function form(): Element {
  return element("query", { xmlns: NS.REGISTER }, [
    element("instructions", {}, ["Choose the nickname to reserve in this room."]),
    formElement("form", "Room registration", [
      { var: "FORM_TYPE", type: "hidden", value: NS.MUC_REGISTER },
      { var: ROOMNICK, type: "text-single", label: "Desired Nickname", required: true },
    ]),
  ]);
}

function get({ room, from }: IqContext): Element {
  const current = room!.registrationOf(from.bare);
  if (current === undefined) return form();
  return element("query", { xmlns: NS.REGISTER }, [element("registered", {}), element("username", {}, [current])]);
}

function set({ core, room, from, payload, turn }: IqContext): undefined {
  const r = room!;
  if (payload.getChild("remove")) {
    if (r.registrationOf(from.bare) === undefined) throw refuse.itemNotFound("You are not registered with this room");
    r.setRegistration(from.bare, undefined, turn);
    if (r.affiliationOf(from.bare) === "member") r.setAffiliation(from.bare, "none", {}, turn);
    return undefined;
  }
  const submitted = readForm(payload);
  if (!submitted) throw refuse.badRequest("Expected a data form");
  if (submitted.type === "cancel") return undefined;
  if (submitted.type !== "submit" || (submitted.formType !== undefined && submitted.formType !== NS.MUC_REGISTER)) {
    throw refuse.badRequest("Expected a submitted muc#register form");
  }
  const requested = firstValue(submitted, ROOMNICK);
  if (!requested) throw refuse.notAcceptable("A nickname is required");
  const prepared = prepareNick(requested);
  if (!("nick" in prepared)) throw prepared;
  const conflict = nickConflict(core, r, prepared.nick, from.bare);
  if (conflict) throw conflict;
  r.setRegistration(from.bare, prepared.nick, turn);
  if (r.affiliationOf(from.bare) === "none") r.setAffiliation(from.bare, "member", {}, turn);
  return undefined;
}

/** The nick a registration submission asks for, or undefined when the IQ is not a submission. */
function requestedNick(iq: Element, payload: Element): string | undefined {
  if (iq.attrs.type !== "set") return undefined;
  const submitted = readForm(payload);
  if (!submitted || submitted.type !== "submit") return undefined;
  return firstValue(submitted, ROOMNICK);
}

export const registration: Feature = {
  name: "registration",
  roomFeatures: () => [NS.REGISTER],
  nickCheck: [
    {
      priority: 0,
      check(room, nick, bare) {
        const registrant = room.registrantOf(nick);
        return registrant && registrant !== bare ? refuse.conflict("That nickname is registered by another person") : undefined;
      },
    },
  ],
  iq: [
    { to: "room", type: "get", xmlns: NS.REGISTER, name: "query", handle: get },
    { to: "room", type: "set", xmlns: NS.REGISTER, name: "query", handle: set, entryNick: requestedNick },
  ],
};
