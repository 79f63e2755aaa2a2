import type { MucCore } from "./hooks.ts";
import { NS } from "./namespaces.ts";
import { broadcast } from "./presence.ts";
import type { Room } from "./room.ts";
import { element } from "./stanza.ts";
import type { Turn } from "./turn.ts";

/** Privacy changes have their own status codes (172/173, features/whois.ts), not 104. */
const PRIVACY = new Set(["muc_nonanonymous", "muc_semianonymous"]);

/** What disco#info shows an occupant of the room's configuration, as one string. */
function visible(core: MucCore, room: Room): string {
  const vars = core.hooks.roomFeatures(room, core).filter((v) => !PRIVACY.has(v));
  const info = core.hooks.roomInfo(room, "occupant", core).map((f) => `${f.var}=${f.value}`);
  return JSON.stringify([room.config.name, vars, info]);
}

/**
 * Run `change` (a configuration change, from the §10.2 form or an HTTP
 * command); when it changed what disco#info shows, every occupant gets the
 * §10.2.1 notice, a groupchat message from the room with status 104.
 */
export function withConfigNotice(core: MucCore, room: Room, turn: Turn, change: () => void): void {
  const before = visible(core, room);
  change();
  if (visible(core, room) === before) return;
  const notice = element("message", { type: "groupchat", from: room.jid }, [element("x", { xmlns: NS.MUC_USER }, [element("status", { code: "104" })])]);
  broadcast(room, notice, turn.roster);
}
