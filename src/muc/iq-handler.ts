import type { Element } from "@xmpp/xml";
import { handleAdmin } from "./admin.ts";
import type { Incoming, MucContext } from "./context.ts";
import { roomInfo, roomItems, serviceInfo, serviceItems } from "./disco.ts";
import { FORWARDED, forwardRequest, forwardResponse } from "./iq-forwarding.ts";
import { NS } from "./namespaces.ts";
import { handleRegister } from "./registration.ts";
import { handleOwner } from "./room-config.ts";
import { refuse } from "./stanza-error.ts";
import { element, soleChild } from "./stanza.ts";

/**
 * IQs to the service, to a room, or to an occupant. RFC 6120 §8.2.3: a get or
 * set carries exactly one payload (else bad-request); a namespace nobody here
 * serves is service-unavailable (§8.4), a known one asked for something
 * mucgate does not do is feature-not-implemented. Results and errors are
 * only meaningful as answers to IQs the room forwarded between occupants.
 */
export function handleIq(ctx: MucContext, inc: Incoming, out: Element[]): void {
  const { stanza } = inc;
  const type = stanza.attrs.type;
  if (type === "result" || type === "error") {
    if (inc.room && inc.to.resource) forwardResponse(ctx, inc.room, inc, out);
    return;
  }
  if (type !== "get" && type !== "set") throw refuse.badRequest("IQ type must be get, set, result or error");
  if (!stanza.attrs.id) throw refuse.badRequest("IQ without id");
  const payload = soleChild(stanza);
  if (!payload) throw refuse.badRequest("An IQ get or set carries exactly one child element");
  // What the handler has to send after the result (§7.10 presence updates, §8.2 kick notices).
  const after: Element[] = [];
  const answer = answerIq(ctx, inc, payload, out, after);
  if (answer === FORWARDED) return;
  out.push(
    element(
      "iq",
      { type: "result", from: stanza.attrs.to!, to: stanza.attrs.from!, id: stanza.attrs.id },
      answer ? [answer] : [],
    ),
  );
  out.push(...after);
}

function answerIq(ctx: MucContext, inc: Incoming, payload: Element, out: Element[], after: Element[]): Element | undefined {
  const { stanza, room } = inc;
  const type = stanza.attrs.type;
  const ns = payload.attrs.xmlns;
  const isGet = type === "get";

  if (!inc.to.local) {
    // The service itself.
    if (payload.attrs.node) throw refuse.itemNotFound("No such node");
    if (isGet && payload.name === "query" && ns === NS.DISCO_INFO) return serviceInfo();
    if (isGet && payload.name === "query" && ns === NS.DISCO_ITEMS) return serviceItems(ctx);
    if (isGet && payload.name === "ping" && ns === NS.PING) return undefined;
    throw refuse.serviceUnavailable();
  }

  if (!room) throw refuse.itemNotFound("No such room");
  if (inc.to.resource) return forwardRequest(ctx, room, inc, out);

  switch (ns) {
    case NS.DISCO_INFO:
      if (!isGet) break;
      if (payload.attrs.node) throw refuse.itemNotFound("No such node");
      return roomInfo(room, inc.occupant ? "occupant" : "outsider");
    case NS.DISCO_ITEMS:
      if (!isGet) break;
      return roomItems();
    case NS.PING:
      if (!isGet) break;
      return undefined;
    case NS.MUC_ADMIN:
      handleAdmin(ctx, room, inc.occupant, stanza, payload, out, after);
      return undefined;
    case NS.MUC_OWNER:
      return handleOwner(ctx, room, inc.occupant, stanza, payload, out);
    case NS.REGISTER:
      return handleRegister(room, inc, payload, after);
    default:
      throw refuse.serviceUnavailable();
  }
  throw refuse.badRequest(`A ${payload.name} in ${ns} must be of type get`);
}
