import type { Element } from "@xmpp/xml";
import type { Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import type { Occupant } from "../occupant.ts";
import { element, frozen } from "../stanza.ts";

const marks = new WeakMap<Occupant, readonly Element[]>();

/**
 * XEP-0421: every presence and message an occupant sends through the room
 * carries `<occupant-id/>`, stable for one real bare JID in one room and
 * unlinkable across rooms (secret.ts). Clients' forged ones are stripped
 * with the room's own namespaces (presence.ts ROOM_OWNED).
 */
export const occupantIds: Feature = {
  name: "occupant-id",
  serviceFeatures: [NS.OCCUPANT_ID],
  roomFeatures: () => [NS.OCCUPANT_ID],
  occupantMarks(occupant) {
    let mark = marks.get(occupant);
    if (mark === undefined) {
      mark = [frozen(element("occupant-id", { xmlns: NS.OCCUPANT_ID, id: occupant.occupantId }))];
      marks.set(occupant, mark);
    }
    return mark;
  },
};
