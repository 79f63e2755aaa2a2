import type { Element } from "@xmpp/xml";
import { NS } from "./namespaces.ts";
import { element } from "./stanza.ts";
import type { Room } from "./room.ts";
import type { RoomChange } from "./room-change.ts";
import { tombstone } from "./retraction.ts";
import { occupantRecord, roomRecord } from "./room-record.ts";
import type { ChangeListener } from "./service.ts";
import type { Storage } from "./storage.ts";

/** The writes the recorder makes. */
export type StorageWrites = Pick<
  Storage,
  "putRoom" | "deleteRoom" | "setAffiliation" | "setRegistration" | "putOccupant" | "removeOccupant" | "archive" | "replaceArchived"
>;

/** The room's stanza-id on a relayed message, if the room archived it (features/archive.ts). */
function stanzaIdOf(room: Room, message: Element): string | undefined {
  for (const child of message.children) {
    if (typeof child !== "string" && child.name === "stanza-id" && child.attrs.xmlns === NS.SID && child.attrs.by === room.jid) return child.attrs.id;
  }
  return undefined;
}

/** The message as stored: as relayed, without the stanza-id (the record's id is it). */
function withoutStanzaId(message: Element): string {
  const children = message.children.filter((c) => typeof c === "string" || !(c.name === "stanza-id" && c.attrs.xmlns === NS.SID));
  return element(message.name, message.attrs, children).toString();
}

/**
 * Room changes → storage writes (the port buffers them; the service's
 * caller commits once per turn, before anything the turn produced leaves
 * the process). Every room is recorded while it exists — a temporary one
 * too, so a restart brings it back with its occupants — and forgotten when
 * it is destroyed.
 */
export function recorder(storage: StorageWrites): ChangeListener {
  return (room: Room, change: RoomChange) => {
    switch (change.kind) {
      case "created":
      case "config-changed":
        storage.putRoom(roomRecord(room));
        return;
      case "subject-changed": {
        storage.putRoom(roomRecord(room));
        const id = stanzaIdOf(room, change.subject.message);
        if (id !== undefined) {
          storage.archive(room.jid, { id, stamp: change.subject.stamp, from: change.subject.from, bare: change.subject.by ?? "", stanza: withoutStanzaId(change.subject.message) });
        }
        return;
      }
      case "message": {
        const id = stanzaIdOf(room, change.message);
        if (id !== undefined) {
          storage.archive(room.jid, { id, stamp: change.stamp, from: change.occupant.jid, bare: change.occupant.bare, stanza: withoutStanzaId(change.message) });
        }
        return;
      }
      case "affiliation-changed":
        storage.setAffiliation(room.jid, change.jid, change.affiliation === "none" ? undefined : change.affiliation, change.reason);
        for (const occupant of change.roleChanged ?? []) storage.putOccupant(room.jid, occupantRecord(occupant));
        return;
      case "registration-changed":
        storage.setRegistration(room.jid, change.jid, change.nick);
        return;
      case "occupant-joined":
      case "session-joined":
      case "presence-changed":
      case "session-left":
      case "role-changed":
        storage.putOccupant(room.jid, occupantRecord(change.occupant));
        return;
      case "nick-changed":
        storage.removeOccupant(room.jid, change.previousNick);
        storage.putOccupant(room.jid, occupantRecord(change.occupant));
        return;
      case "occupant-left":
        storage.removeOccupant(room.jid, change.occupant.nick);
        return;
      case "destroyed":
        storage.deleteRoom(room.jid);
        return;
      case "message-retracted":
        // XEP-0424 §5.2: the archive keeps the tombstone, never the body again.
        storage.replaceArchived(room.jid, change.id, tombstone(change).toString());
        return;
    }
  };
}
