import type { Node } from "@xmpp/xml";
import { parseJid } from "../../jid.ts";
import type { Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";

/**
 * §7.8.2 mediated invitations: the room forwards an occupant's `<invite/>`,
 * naming the inviter's real JID (the invitee must learn who invites). Only
 * occupants may invite. An invitee's `<decline/>` goes back the same way to
 * the JID it names, from the decliner's bare JID (Examples 61–62); the
 * decliner is not in the room, so anyone may decline, as with Prosody: what
 * is relayed names its sender and carries only a reason.
 */
export const invitations: Feature = {
  name: "invitations",
  roomMessage: [
    {
      priority: 0,
      handle({ room, occupant, stanza, from, turn }) {
        const x = stanza.getChild("x", NS.MUC_USER);
        const decline = x?.getChild("decline");
        if (decline) {
          const to = parseJid(decline.attrs.to ?? "");
          if (!to) throw refuse.jidMalformed("A decline needs a valid 'to': the inviter");
          const reason = decline.getChildText("reason");
          const attrs: Record<string, string> = { from: room.jid, to: to.full };
          if (stanza.attrs.id) attrs.id = stanza.attrs.id;
          turn.out.push(
            element("message", attrs, [
              element("x", { xmlns: NS.MUC_USER }, [element("decline", { from: from.bare }, reason ? [element("reason", {}, [reason])] : [])]),
            ]),
          );
          return true;
        }
        const invite = x?.getChild("invite");
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
