import type { Element } from "@xmpp/xml";
import type { Jid } from "../jid.ts";
import type { Metrics } from "../metrics.ts";
import type { Hooks } from "./hooks.ts";
import type { Occupant } from "./occupant.ts";
import type { Room } from "./room.ts";
import type { ServiceSecret } from "./secret.ts";
import type { Turn } from "./turn.ts";

/** What the use cases and features may use of the service (MucService implements it). */
export interface MucCore {
  /** The service's domain, e.g. `rooms.example.org`. */
  readonly domain: string;
  readonly hooks: Hooks;
  readonly secret: ServiceSecret;
  readonly metrics: Metrics | undefined;
  /** Rooms in memory, by bare JID. */
  readonly rooms: ReadonlyMap<string, Room>;
  /** A new room, created by a join of `creator` (§10.1). */
  createRoom(jid: Jid, creator: Jid, turn: Turn): Room;
  /** §10.9: everyone leaves with the `<destroy/>` notice, and the room is gone. */
  destroyRoom(room: Room, how: { reason?: string | undefined; alternate?: string | undefined }, turn: Turn): void;
}

/** An incoming stanza with its addresses parsed and its room and sender looked up. */
export interface Incoming {
  readonly stanza: Element;
  readonly from: Jid;
  readonly to: Jid;
  /** The room `to` names, if it is in memory. */
  readonly room: Room | undefined;
  /** The sender's occupant in that room, if the sending session is in it. */
  readonly occupant: Occupant | undefined;
}
