import type { Element } from "@xmpp/xml";
import type { MucContext } from "./context.ts";
import { booleanValue, firstValue, formElement, readForm } from "./data-form.ts";
import { NS } from "./namespaces.ts";
import type { Occupant } from "./occupant.ts";
import { presenceFor } from "./presence.ts";
import type { Room } from "./room.ts";
import { refuse } from "./stanza-error.ts";
import { addressed, element } from "./stanza.ts";

/**
 * The muc#owner namespace (XEP-0045 §10): room configuration and destruction,
 * owners only. Rooms are instant — a client that got status 201 submits an
 * empty form (§10.1.2) and is answered with a plain result; a full form
 * configures the name, description, listing and who may change the subject.
 */
export function handleOwner(ctx: MucContext, room: Room, actor: Occupant | undefined, iq: Element, query: Element, out: Element[]): Element | undefined {
  if (!actor || actor.affiliation !== "owner") throw refuse.forbidden("Only owners may configure the room");
  if (iq.attrs.type === "get") return element("query", { xmlns: NS.MUC_OWNER }, [configForm(room)]);
  const destroy = query.getChild("destroy");
  if (destroy) {
    destroyRoom(ctx, room, destroy, out);
    return undefined;
  }
  const form = readForm(query);
  if (!form) throw refuse.badRequest("Expected a data form or <destroy/>");
  if (form.type === "cancel") return undefined;
  if (form.type !== "submit") throw refuse.badRequest("Not a submitted form");
  if (form.formType !== undefined && form.formType !== NS.MUC_ROOMCONFIG) {
    throw refuse.badRequest("Form is not of type room configuration");
  }
  if (booleanValue(form, "muc#roomconfig_persistentroom") === true) {
    throw refuse.notAcceptable("Rooms on this service are temporary");
  }
  const name = firstValue(form, "muc#roomconfig_roomname");
  if (name !== undefined) room.config.name = name;
  const description = firstValue(form, "muc#roomconfig_roomdesc");
  if (description !== undefined) room.config.description = description;
  const isPublic = booleanValue(form, "muc#roomconfig_publicroom");
  if (isPublic !== undefined) room.config.public = isPublic;
  const changeSubject = booleanValue(form, "muc#roomconfig_changesubject");
  if (changeSubject !== undefined) room.config.changeSubject = changeSubject;
  return undefined;
}

function configForm(room: Room): Element {
  return formElement("form", `Configuration for ${room.jid}`, [
    { var: "FORM_TYPE", type: "hidden", value: NS.MUC_ROOMCONFIG },
    { var: "muc#roomconfig_roomname", type: "text-single", label: "Title", value: room.config.name },
    { var: "muc#roomconfig_roomdesc", type: "text-single", label: "Description", value: room.config.description },
    { var: "muc#roomconfig_publicroom", type: "boolean", label: "Include room information in public lists", value: room.config.public ? "1" : "0" },
    { var: "muc#roomconfig_changesubject", type: "boolean", label: "Allow anyone to set the room's subject", value: room.config.changeSubject ? "1" : "0" },
    { var: "muc#roomconfig_persistentroom", type: "boolean", label: "Persistent (not available on this service)", value: "0" },
  ]);
}

/** §10.9: everyone leaves with the <destroy/> element (and its reason/alternate venue); the room is gone. */
function destroyRoom(ctx: MucContext, room: Room, destroy: Element, out: Element[]): void {
  const attrs: Record<string, string> = {};
  if (destroy.attrs.jid) attrs.jid = destroy.attrs.jid;
  const reason = destroy.getChildText("reason");
  const destroyEl = element("destroy", attrs, reason ? [element("reason", {}, [reason])] : []);
  const occupants = [...room.occupants.values()];
  for (const occupant of occupants) {
    occupant.role = "none";
    room.removeOccupant(occupant);
  }
  // Each occupant hears only of itself: the room no longer has anyone to tell.
  for (const occupant of occupants) {
    const self = presenceFor(occupant, { type: "unavailable", payload: [], destroy: destroyEl }, "self");
    for (const session of occupant.sessions) out.push(addressed(self, session));
  }
  ctx.destroyIfEmpty(room);
}
