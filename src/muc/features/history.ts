import type { Feature } from "../hooks.ts";
import { parseHistoryRequest } from "../history.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { addressed } from "../stanza.ts";

/**
 * §7.2.15 discussion history: a newcomer gets the room's last messages (at
 * most the room's `historylength`, §10.2), with XEP-0203 delay stamps, within
 * the limits its `<history/>` asks for (maxstanzas, maxchars, seconds,
 * since), after its own presence and before the subject. The room keeps
 * them (Room.say); a persistent room's come back from its archive. The
 * service bounds their bytes too (`max_history_bytes`, mucgate's addition:
 * neither Prosody nor ejabberd has one): the newest whole messages within
 * it are kept and sent, as §7.2.15 maxchars is applied.
 */
export const history: Feature = {
  name: "history",
  config: [
    {
      var: "muc#roomconfig_historylength",
      type: "text-single",
      label: "Maximum number of history messages returned by room",
      value: (room) => String(room.config.historyLength),
      submit(values, draft, _room, core) {
        const text = (values[0] ?? "").trim();
        const max = core.settings.maxHistoryLength;
        if (!/^\d{1,9}$/.test(text) || Number(text) > max) {
          throw refuse.notAcceptable(`muc#roomconfig_historylength must be a whole number from 0 to ${max}`);
        }
        draft.historyLength = Number(text);
      },
    },
  ],
  joined: [
    {
      priority: 0,
      send({ core, room, session, stanza, turn }) {
        const request = parseHistoryRequest(stanza.getChild("x", NS.MUC)?.getChild("history"));
        const maxstanzas = Math.min(request.maxstanzas ?? Infinity, room.config.historyLength);
        // The room holds no more than max_history_bytes already; bounding what is sent too keeps the promise whatever filled it.
        const maxbytes = core.settings.maxHistoryBytes;
        for (const entry of room.history.select({ ...request, maxstanzas, maxbytes }, turn.now)) turn.out.push(addressed(entry.message, session));
      },
    },
  ],
};
