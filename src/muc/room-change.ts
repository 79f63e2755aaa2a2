import type { Element, Node } from "@xmpp/xml";
import type { Affiliation, Occupant, Role } from "./occupant.ts";
import type { RoomConfig } from "./room-config.ts";

/**
 * Everything that changes a room, as a value. `Room` is the only writer of
 * room state; each of its methods makes one change and emits one of these,
 * synchronously, before it returns. Subscribers turn them into what they
 * need: the broadcaster into stanzas (broadcaster.ts), the store into
 * records, metrics into counts. Changes carry facts (who, what, why), never
 * stanzas or status codes: those are the broadcaster's business.
 */
export type RoomChange =
  | { readonly kind: "created"; readonly creator: string }
  /** A new nick in the room (§7.2). `created`: this join made the room; `nickModified`: the service changed the nick asked for (§7.2.3, 210). */
  | { readonly kind: "occupant-joined"; readonly occupant: Occupant; readonly session: string; readonly created: boolean; readonly nickModified: boolean }
  /** Another session of a nick already present (multi-session): the room shows nothing new. */
  | { readonly kind: "session-joined"; readonly occupant: Occupant; readonly session: string; readonly nickModified: boolean }
  /** §7.7: the occupant's presence changed. */
  | { readonly kind: "presence-changed"; readonly occupant: Occupant; readonly session: string }
  /** §7.6: the occupant (all its sessions) now has another nick. */
  | { readonly kind: "nick-changed"; readonly occupant: Occupant; readonly previousNick: string; readonly session: string; readonly nickModified: boolean }
  /** One of several sessions of a nick left; the occupant stays. */
  | { readonly kind: "session-left"; readonly occupant: Occupant; readonly session: string; readonly cause: LeaveCause; readonly payload: readonly Node[] }
  /** The occupant is out of the room, every session of it. */
  | {
      readonly kind: "occupant-left";
      readonly occupant: Occupant;
      readonly cause: LeaveCause;
      /** What the leave shows (e.g. the leave's status text); nothing for removals. */
      readonly payload: readonly Node[];
      readonly reason?: string | undefined;
      /** Nick of the occupant who removed it, if one did. */
      readonly actor?: string | undefined;
    }
  | { readonly kind: "role-changed"; readonly occupant: Occupant; readonly previous: Role; readonly reason?: string | undefined; readonly actor?: string | undefined }
  /** §9: a real bare JID's standing in the room; `none` is no record. */
  | {
      readonly kind: "affiliation-changed";
      readonly jid: string;
      readonly affiliation: Affiliation;
      readonly previous: Affiliation;
      readonly reason?: string | undefined;
      readonly actor?: string | undefined;
      /** Occupants of that JID whose role changed with it (§9.3, §10.3). */
      readonly roleChanged?: readonly Occupant[];
    }
  /** §7.10: `nick` reserved for `jid`, or undefined when the registration went. */
  | { readonly kind: "registration-changed"; readonly jid: string; readonly nick: string | undefined; readonly previous: string | undefined }
  | { readonly kind: "config-changed"; readonly config: RoomConfig; readonly previous: RoomConfig }
  | { readonly kind: "subject-changed"; readonly subject: Subject }
  /** §7.4: a groupchat message the room relays to every occupant. */
  | { readonly kind: "message"; readonly occupant: Occupant; readonly message: Element; readonly stamp: number }
  /**
   * XEP-0424/0425: the archived message with stanza-id `id` is retracted —
   * by a moderator (XEP-0425, `moderator` set), or by its author. The
   * archive keeps a tombstone instead of it; the join history drops it.
   */
  | {
      readonly kind: "message-retracted";
      readonly id: string;
      /** The message as archived (from the occupant JID, with its occupant id). */
      readonly original: Element;
      /** The moderator who retracted it, when it was not its author. */
      readonly moderator?: { readonly jid: string; readonly occupantId: string } | undefined;
      readonly reason?: string | undefined;
      readonly stamp: number;
    }
  /** §10.9: everyone is out and the room is gone; `occupants` are those who were in it. */
  | {
      readonly kind: "destroyed";
      readonly occupants: readonly Occupant[];
      readonly reason?: string | undefined;
      /** An alternate venue, a room JID. */
      readonly alternate?: string | undefined;
    };

/**
 * Why an occupant (or a session) left: its own unavailable presence (§7.14),
 * an error its server bounced (333), a kick (§8.2, 307), a ban (§9.1, 301), the service
 * shutting down (§15.7.2, 332), the room being destroyed (§10.9), an
 * affiliation change that leaves a non-member in a members-only room (§9.4,
 * 321), or the room becoming members-only (§10.2, 322).
 */
export type LeaveCause = "leave" | "error" | "kick" | "ban" | "shutdown" | "destroy" | "affiliation" | "members-only";

/** A room's subject (§8.1) with who set it and when. */
export interface Subject {
  readonly text: string;
  /** The occupant JID that set it, or the room's JID. */
  readonly from: string;
  /** The setter's real bare JID, when an occupant set it. */
  readonly by: string | undefined;
  /** ms since the epoch. */
  readonly stamp: number;
  /** The subject message as broadcast, without `to`. */
  readonly message: Element;
}
