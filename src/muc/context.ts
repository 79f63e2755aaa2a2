import type { Element } from "@xmpp/xml";
import type { Jid } from "../jid.ts";
import type { Metrics } from "../metrics.ts";
import type { Occupant } from "./occupant.ts";
import type { ServiceSecret } from "./secret.ts";
import type { Room } from "./room.ts";

/** What every MUC handler may use of the service: state and injected time. */
export interface MucContext {
  /** The service's domain, e.g. `rooms.example.org`. */
  readonly domain: string;
  readonly rooms: Map<string, Room>;
  /** ms since the epoch; injected so history and tests control time. */
  readonly now: () => number;
  readonly secret: ServiceSecret;
  readonly historySize: number;
  readonly metrics: Metrics | undefined;
  /** Drop a temporary room once nobody is in it (XEP-0045 §10.1.3 muc_temporary). */
  destroyIfEmpty(room: Room): void;
  /** A new room for the given bare JID; registered in `rooms`. */
  createRoom(jid: string, node: string): Room;
}

/** An incoming stanza with its addresses parsed and its room and sender looked up. */
export interface Incoming {
  readonly stanza: Element;
  readonly from: Jid;
  readonly to: Jid;
  /** The room `to` names, if it exists. */
  readonly room: Room | undefined;
  /** The sender's occupant in that room, if the sending session is in it. */
  readonly occupant: Occupant | undefined;
}
