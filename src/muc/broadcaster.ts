import type { Hooks } from "./hooks.ts";
import type { Occupant } from "./occupant.ts";
import { broadcast, broadcastPresence, currentPresence, joinStatuses, presenceFor, type PresenceChange } from "./presence.ts";
import type { Room } from "./room.ts";
import { moderationNotice } from "./retraction.ts";
import type { LeaveCause, RoomChange } from "./room-change.ts";
import { addressed, element } from "./stanza.ts";
import type { Turn } from "./turn.ts";

/** XEP-0045 status codes of removals (§8.2 kick 307, §9.1 ban 301, §15.7.2 shutdown 332, 333 an error removed it, §9.4 321 and §10.2 322 members-only). */
const LEAVE_STATUS: Record<LeaveCause, readonly string[]> = {
  leave: [],
  error: ["333"],
  kick: ["307"],
  ban: ["301"],
  shutdown: ["332"],
  destroy: [],
  affiliation: ["321"],
  "members-only": ["322"],
};

/**
 * Turns room changes into the stanzas the occupants get (XEP-0045 §7-§10),
 * in the turn they happen. A removed occupant hears of its removal first, in
 * `turn.out`; the room's copies go to `turn.roster` (see turn.ts).
 */
export class Broadcaster {
  constructor(readonly hooks: Hooks) {}

  apply(room: Room, change: RoomChange, turn: Turn): void {
    switch (change.kind) {
      case "occupant-joined": {
        // §7.2.3: everyone, the newcomer's sessions included, learns of it;
        // 100 that the room is non-anonymous (§7.2.4), 201 tells the creator it made the room (§10.1.2), 210 that its nick was changed.
        const selfStatuses = [...joinStatuses(room), ...(change.created ? ["201"] : []), ...(change.nickModified ? ["210"] : [])];
        this.#presence(room, change.occupant, { selfStatuses }, turn);
        return;
      }
      case "session-joined": {
        // Another session of a nick already present: the room shows nothing new; this session gets its self-presence.
        const self = presenceFor(change.occupant, { selfStatuses: [...joinStatuses(room), ...(change.nickModified ? ["210"] : [])] }, "self", this.hooks.occupantMarks(change.occupant));
        turn.out.push(addressed(self, change.session));
        return;
      }
      case "presence-changed":
        this.#presence(room, change.occupant, {}, turn);
        return;
      case "nick-changed": {
        // §7.6: the old nick leaves with 303 naming the new one, then the new nick's presence.
        const from = `${room.jid}/${change.previousNick}`;
        this.#presence(room, change.occupant, { type: "unavailable", statuses: ["303"], newNick: change.occupant.nick, from }, turn);
        this.#presence(room, change.occupant, { selfStatuses: change.nickModified ? ["210"] : [] }, turn);
        return;
      }
      case "session-left": {
        const leave = { type: "unavailable" as const, statuses: LEAVE_STATUS[change.cause], payload: change.payload, role: "none" as const, session: change.session };
        turn.out.push(addressed(presenceFor(change.occupant, leave, "self", this.hooks.occupantMarks(change.occupant)), change.session));
        return;
      }
      case "occupant-left": {
        const leave: PresenceChange = { type: "unavailable", statuses: LEAVE_STATUS[change.cause], payload: change.payload, reason: change.reason, actor: change.actor };
        if (change.cause === "shutdown") {
          // §15.7.2 332: everyone leaves, so each session hears only of itself (as for §10.9 destroy,
          // and as ejabberd does): the room's copies would be k²/2 stanzas for a room of k — 255,000
          // for 10,000 occupants in rooms of 50, 64 MiB the server never got (bench/shutdown.bench.ts).
          const self = presenceFor(change.occupant, leave, "self", this.hooks.occupantMarks(change.occupant));
          for (const session of change.occupant.sessions) turn.out.push(addressed(self, session));
          return;
        }
        this.#presence(room, change.occupant, leave, turn);
        return;
      }
      case "role-changed":
        this.#presence(room, change.occupant, { reason: change.reason, actor: change.actor }, turn);
        if (change.occupant.isModerator) this.#revealJids(room, change.occupant, turn);
        return;
      case "affiliation-changed":
        // §9.1: an outcast in the room is removed right after, with 301; it is never shown as present.
        if (change.affiliation === "outcast") return;
        // §7.10, §9: an affiliation change of a user in the room is shown to everyone.
        for (const occupant of room.occupants.values()) {
          if (occupant.bare === change.jid) this.#presence(room, occupant, { reason: change.reason, actor: change.actor }, turn);
        }
        for (const occupant of change.roleChanged ?? []) if (occupant.isModerator) this.#revealJids(room, occupant, turn);
        return;
      case "subject-changed":
        broadcast(room, change.subject.message, turn.roster);
        return;
      case "message":
        broadcast(room, change.message, turn.roster);
        return;
      case "destroyed": {
        // §10.9: each occupant hears only of itself; the room has nobody left to tell.
        const attrs: Record<string, string> = {};
        if (change.alternate) attrs.jid = change.alternate;
        const destroy = element("destroy", attrs, change.reason ? [element("reason", {}, [change.reason])] : []);
        for (const occupant of change.occupants) {
          const self = presenceFor(occupant, { type: "unavailable", payload: [], destroy }, "self", this.hooks.occupantMarks(occupant));
          for (const session of occupant.sessions) turn.out.push(addressed(self, session));
        }
        return;
      }
      case "message-retracted":
        // XEP-0425 §4: everyone learns of a moderator's retraction; an author's own (XEP-0424) was relayed as it came.
        if (change.moderator) broadcast(room, moderationNotice(room.jid, change, `moderated-${change.id}`), turn.roster);
        return;
      case "created":
      case "registration-changed":
        return;
    }
  }

  /**
   * A new moderator of a semi-anonymous room (§4.2: moderators see real
   * JIDs) gets everyone else's presence again, now with their JIDs, after
   * its own — as it would have, had it joined a moderator.
   */
  #revealJids(room: Room, moderator: Occupant, turn: Turn): void {
    for (const other of room.occupants.values()) {
      if (other === moderator) continue;
      const template = currentPresence(other, "moderators", this.hooks.occupantMarks(other));
      for (const session of moderator.sessions) turn.roster.push(addressed(template, session));
    }
  }

  #presence(room: Room, occupant: Parameters<typeof broadcastPresence>[1], change: PresenceChange, turn: Turn): void {
    broadcastPresence(room, occupant, change, this.hooks.occupantMarks(occupant), turn.out, turn.roster);
  }
}
