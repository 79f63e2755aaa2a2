import type { Element } from "@xmpp/xml";
import type { Jid } from "../jid.ts";
import type { Occupant } from "./occupant.ts";
import type { Room } from "./room.ts";
import type { Standing } from "./standing.ts";

/** An incoming stanza with its addresses parsed and its room and sender looked up. */
export interface Incoming {
  readonly stanza: Element;
  readonly from: Jid;
  readonly to: Jid;
  /** The room `to` names, if it is in memory. */
  readonly room: Room | undefined;
  /** The sender's occupant in that room, if the sending session is in it. */
  readonly occupant: Occupant | undefined;
  /** A join the gate allowed with an affiliation or role (README "Join authorization"). */
  readonly standing?: Standing | undefined;
}
