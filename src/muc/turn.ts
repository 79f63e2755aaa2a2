import type { Element } from "@xmpp/xml";
import type { MaybePromise } from "./storage.ts";
import type { StorageReads } from "./storage.ts";

/** What is left of a turn once storage answers: the stanzas to send then, in order. */
export interface Later {
  run(storage: StorageReads): MaybePromise<Element[]>;
}

/**
 * What one input to the service (a stanza, an HTTP command, shutdown)
 * produces, in the order it must leave: everything the room sends because of
 * it is appended here, synchronously.
 *
 * `out` is the main sequence. `roster` is where the rest of the room's copies
 * of a change go: the same array, unless the input is an IQ whose result
 * XEP-0045 places between the acted-on occupant's notice and everyone else's
 * (§8.2 kick, §9 affiliation changes): then the IQ dispatcher points it at
 * a list it sends after the result.
 */
export class Turn {
  readonly out: Element[];
  roster: Element[];
  /** An answer that must read storage first (hooks.ts Deferred); the router runs it after the turn. */
  later: Later | undefined;

  constructor(
    /** ms since the epoch, one instant for everything this turn stamps. */
    readonly now: number,
    out: Element[] = [],
  ) {
    this.out = out;
    this.roster = out;
  }
}
