import type { Feature } from "../hooks.ts";
import { parseHistoryRequest } from "../history.ts";
import { NS } from "../namespaces.ts";
import { addressed } from "../stanza.ts";

/**
 * §7.2.15 discussion history: a newcomer gets the room's last messages, with
 * XEP-0203 delay stamps, within the limits its `<history/>` asks for
 * (maxstanzas, maxchars, seconds, since), after its own presence and before
 * the subject. The room keeps them (Room.say).
 */
export const history: Feature = {
  name: "history",
  joined: [
    {
      priority: 0,
      send({ room, session, stanza, turn }) {
        const request = parseHistoryRequest(stanza.getChild("x", NS.MUC)?.getChild("history"));
        for (const entry of room.history.select(request, turn.now)) turn.out.push(addressed(entry.message, session));
      },
    },
  ],
};
