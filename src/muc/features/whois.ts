import type { Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { broadcast } from "../presence.ts";
import { element } from "../stanza.ts";
import { listField } from "./config-fields.ts";

/**
 * §10.2 `whois`: who sees occupants' real JIDs. Semi-anonymous rooms
 * (muc_semianonymous) show them to moderators; non-anonymous ones
 * (muc_nonanonymous) to every occupant, and say so with status 100 in each
 * self-presence on entering (presence.ts). When an owner changes it, every
 * occupant is told: 172 the room is now non-anonymous, 173 semi-anonymous
 * (§10.2.1) — a privacy change, so it gets its own notice rather than 104.
 * The default is `muc_room_default_public_jids` (Prosody's name).
 */
export const whois: Feature = {
  name: "whois",
  config: [
    listField("muc#roomconfig_whois", "Who may discover real JIDs", "whois", [
      { value: "moderators", label: "Moderators only" },
      { value: "anyone", label: "Anyone" },
    ]),
  ],
  roomFeatures: (room) => [room.config.whois === "anyone" ? "muc_nonanonymous" : "muc_semianonymous"],
  changed(room, change, turn) {
    if (change.kind !== "config-changed" || change.config.whois === change.previous.whois) return;
    const code = change.config.whois === "anyone" ? "172" : "173";
    const notice = element("message", { type: "groupchat", from: room.jid }, [element("x", { xmlns: NS.MUC_USER }, [element("status", { code })])]);
    broadcast(room, notice, turn.roster);
  },
};
