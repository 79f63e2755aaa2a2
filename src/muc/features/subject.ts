import type { Element } from "@xmpp/xml";
import type { Feature } from "../hooks.ts";
import type { Room } from "../room.ts";
import { refuse } from "../stanza-error.ts";
import { NS } from "../namespaces.ts";
import type { Subject } from "../room-change.ts";
import { addressed, element, xmppDateTime } from "../stanza.ts";
import { booleanField } from "./config-fields.ts";

/** What a newcomer gets while no subject is set: an empty `<subject/>` from the room, built once per room. */
const noSubjects = new WeakMap<Room, Element>();

function noSubject(room: Room): Element {
  let message = noSubjects.get(room);
  if (message === undefined) {
    message = element("message", { type: "groupchat", from: room.jid }, [element("subject", {})]);
    noSubjects.set(room, message);
  }
  return message;
}

const replays = new WeakMap<Subject, Element>();

/** The subject as a newcomer gets it: with who set it and when (XEP-0203 delay, as Prosody sends it). */
function delayed(room: Room, subject: Subject): Element {
  let message = replays.get(subject);
  if (message === undefined) {
    message = element("message", subject.message.attrs, [
      ...subject.message.children,
      element("delay", { xmlns: NS.DELAY, from: room.jid, stamp: xmppDateTime(subject.stamp) }),
    ]);
    replays.set(subject, message);
  }
  return message;
}

/**
 * §8.1 the room's subject: a groupchat message with a subject and no body
 * changes it — moderators always, participants when the owner allows it
 * (§10.2 `changesubject`). Every newcomer gets it last (§7.2.16), an empty
 * one while none is set: that is how clients know the join is complete.
 */
export const subject: Feature = {
  name: "subject",
  config: [booleanField("muc#roomconfig_changesubject", "Allow anyone to set the room's subject", "changeSubject")],
  // The subject itself is in room-info.ts, shown as the room's kind allows.
  roomInfo: (room) => [{ var: "muc#roomconfig_changesubject", value: room.config.changeSubject ? "1" : "0" }],
  groupchat: [
    {
      priority: 100,
      filter({ core, room, occupant, stanza, marks, turn }) {
        const hasSubject = stanza.getChild("subject") !== undefined;
        if (!hasSubject || stanza.getChild("body") !== undefined || stanza.getChild("thread") !== undefined) return undefined;
        if (!occupant.isModerator && !room.config.changeSubject) {
          throw refuse.forbidden("Only moderators may change the subject in this room");
        }
        const text = stanza.getChild("subject")!.getText();
        const message = element("message", { type: "groupchat", from: occupant.jid }, [
          element("subject", {}, [text]),
          ...core.hooks.occupantMarks(occupant),
          ...marks,
        ]);
        room.setSubject({ text, from: occupant.jid, by: occupant.bare, stamp: turn.now, message }, turn);
        return "handled";
      },
    },
  ],
  joined: [
    {
      priority: -1000, // always last (§7.2.16)
      send({ room, session, turn }) {
        turn.out.push(addressed(room.subject ? delayed(room, room.subject) : noSubject(room), session));
      },
    },
  ],
};
