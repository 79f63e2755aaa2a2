import type { Element } from "@xmpp/xml";
import { StanzaError } from "../errors.ts";
import { type Deferred, type MucCore, FORWARDED, NEXT, type IqContext, type IqRoute } from "./hooks.ts";
import type { Incoming } from "./incoming.ts";
import { forwardRequest, forwardResponse } from "./iq-forwarding.ts";
import { probeAnswered } from "./session-probe.ts";
import { errorReply, refuse } from "./stanza-error.ts";
import { element, soleChild } from "./stanza.ts";
import { Turn, type Later } from "./turn.ts";

/**
 * IQs to the service, to a room, or to an occupant, answered by the routes
 * features register (hooks.ts `IqRoute`). RFC 6120 §8.2.3: a get or set
 * carries exactly one payload (else bad-request); an element nobody routes is
 * service-unavailable (§8.4), one routed only for the other type is
 * bad-request. IQs to an occupant nobody routes are forwarded to it
 * (iq-forwarding.ts); results and errors are only meaningful as answers to
 * those.
 */
export function handleIq(core: MucCore, inc: Incoming, turn: Turn): void {
  const { stanza, room } = inc;
  const type = stanza.attrs.type;
  if (type === "result" || type === "error") {
    if (room && inc.to.resource) forwardResponse(core, room, inc, turn);
    else probeAnswered(inc, turn);
    return;
  }
  if (type !== "get" && type !== "set") throw refuse.badRequest("IQ type must be get, set, result or error");
  if (!stanza.attrs.id) throw refuse.badRequest("IQ without id");
  const payload = soleChild(stanza);
  if (!payload) throw refuse.badRequest("An IQ get or set carries exactly one child element");
  const to: IqRoute["to"] = !inc.to.local ? "service" : inc.to.resource ? "occupant" : "room";
  // XEP-0410 §3.2: an IQ to an occupant of a room that is not there (a self-ping after a restart) says "not joined".
  if (to === "occupant" && !room) throw refuse.notInRoom();
  if (to === "room" && !room) throw refuse.itemNotFound("No such room");

  // §8.2, §9: what the rest of the room hears of a set comes after its result.
  const after: Element[] = [];
  if (type === "set" && to === "room") turn.roster = after;
  try {
    const context: IqContext = { core, iq: stanza, payload, from: inc.from, to: inc.to, room, occupant: inc.occupant, turn };
    const answer = route(core, context, to, type, payload);
    if (answer === FORWARDED) return;
    if (isDeferred(answer)) {
      turn.later = later(stanza, answer, turn.now);
      return;
    }
    turn.out.push(result(stanza, answer));
    // An occupant removed by this very IQ (a later item of a kick) hears no more of the room.
    for (const notice of after) if (room!.sessions.has(notice.attrs.to!)) turn.out.push(notice);
  } finally {
    turn.roster = turn.out;
  }
}

function result(iq: Element, payload: Element | undefined): Element {
  return element("iq", { type: "result", from: iq.attrs.to!, to: iq.attrs.from!, id: iq.attrs.id! }, payload ? [payload] : []);
}

function isDeferred(answer: unknown): answer is Deferred {
  return typeof answer === "object" && answer !== null && (answer as Deferred).deferred === true;
}

/** The rest of the answer, once storage has been read; a refusal then is an error reply like any other. */
function later(iq: Element, answer: Deferred, now: number): Later {
  const finish = (read: unknown): Element[] => {
    const turn = new Turn(now);
    try {
      const payload = answer.answer(read, turn);
      turn.out.push(result(iq, payload));
      return turn.out;
    } catch (err) {
      if (err instanceof StanzaError) return [errorReply(iq, err, iq.attrs.to!)];
      throw err;
    }
  };
  return {
    run(storage) {
      const read = answer.read(storage);
      return read instanceof Promise ? read.then(finish) : finish(read);
    },
  };
}

function route(core: MucCore, context: IqContext, to: IqRoute["to"], type: string, payload: Element): Element | undefined | typeof FORWARDED | Deferred {
  for (const r of core.hooks.iqRoutes(to, type, payload.attrs.xmlns, payload.name)) {
    const answer = r.handle(context);
    if (answer !== NEXT) return answer;
  }
  if (to === "occupant") return forwardRequest(core, context);
  if (core.hooks.routesOtherType(to, payload.attrs.xmlns, payload.name)) {
    throw refuse.badRequest(`A ${payload.name} in ${payload.attrs.xmlns} must be of type ${type === "get" ? "set" : "get"}`);
  }
  throw refuse.serviceUnavailable();
}
