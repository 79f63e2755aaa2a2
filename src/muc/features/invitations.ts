import type { Node } from "@xmpp/xml";
import { parseJid } from "../../jid.ts";
import type { Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * §7.8.2 mediated invitations: the room forwards an occupant's `<invite/>`,
 * naming the inviter's real JID (the invitee must learn who invites). Only
 * occupants may invite.
 */
export const invitations: Feature = {
  name: "invitations",
  roomMessage: [
    {
      priority: 0,
      handle({ room, occupant, stanza, from, turn }) {
        const invite = stanza.getChild("x", NS.MUC_USER)?.getChild("invite");
        if (!invite) return false;
        if (!occupant) throw refuse.notInRoom();
        const to = parseJid(invite.attrs.to ?? "");
        if (!to) throw refuse.jidMalformed("An invitation needs a valid 'to'");
        const children: Node[] = [];
        const reason = invite.getChildText("reason");
        if (reason) children.push(element("reason", {}, [reason]));
        turn.out.push(
          element("message", { from: room.jid, to: to.full }, [
            element("x", { xmlns: NS.MUC_USER }, [element("invite", { from: from.full }, children)]),
          ]),
        );
        return true;
      },
    },
  ],
};
