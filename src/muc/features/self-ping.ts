import { NEXT, type Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";

/**
 * XEP-0410 self-ping, answered by the room itself
 * (muc#self-ping-optimization, §3.3): a client pings its own occupant JID to
 * learn whether it is still joined; not-acceptable says it is not (§3.2).
 * Pings to other occupants are forwarded like any IQ.
 */
export const selfPing: Feature = {
  name: "self-ping",
  roomFeatures: () => [NS.MUC_SELF_PING],
  iq: [
    {
      to: "occupant",
      type: "get",
      xmlns: NS.PING,
      name: "ping",
      handle({ occupant, to }) {
        if (!occupant) throw refuse.notInRoom();
        return to.resource === occupant.nick ? undefined : NEXT;
      },
    },
  ],
};
