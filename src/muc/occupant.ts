import type { Node } from "@xmpp/xml";

/** XEP-0045 §5.1 roles and §5.2 affiliations. */
export type Role = "moderator" | "participant" | "visitor" | "none";
export type Affiliation = "owner" | "admin" | "member" | "none" | "outcast";

const AFFILIATION_RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };

export function affiliationRank(a: Affiliation): number {
  return AFFILIATION_RANK[a];
}

/**
 * One nickname in one room, as everyone but the room sees it: read only.
 * A user may sit in it with several sessions (resources) at once — XEP-0045
 * §7.2 multi-session nicks — and the occupant shows the latest presence any
 * of them sent. Its affiliation belongs to the user, not the occupancy, so
 * it is read from the room (§5.2), never kept here.
 */
export interface Occupant {
  readonly roomJid: string;
  readonly nick: string;
  /** `room@service/nick`. */
  readonly jid: string;
  /** Normalised real bare JID. */
  readonly bare: string;
  /** XEP-0421 id, stable per (room, bare JID). */
  readonly occupantId: string;
  readonly role: Role;
  readonly affiliation: Affiliation;
  /** Real full JIDs of the sessions sitting in this nick, oldest first. */
  readonly sessions: ReadonlySet<string>;
  /** The children of the last presence a session sent (show, status, caps…), without the MUC elements. */
  readonly payload: readonly Node[];
  /** ms since the epoch. */
  readonly joinedAt: number;
  readonly isModerator: boolean;
  /** The most recently joined session, for IQs that must go to one resource. */
  latestSession(): string;
}

/** What an occupant reads of its room. */
export interface AffiliationSource {
  affiliationOf(bare: string): Affiliation;
}

/**
 * The mutable occupant behind the read-only view. Only `Room` creates and
 * changes these (room.ts is the one writer of room state).
 */
export class OccupantState implements Occupant {
  readonly sessions = new Set<string>();
  jid: string;

  constructor(
    readonly room: AffiliationSource,
    readonly roomJid: string,
    public nick: string,
    readonly bare: string,
    readonly occupantId: string,
    public role: Role,
    session: string,
    public payload: readonly Node[],
    readonly joinedAt: number,
  ) {
    this.sessions.add(session);
    this.jid = `${roomJid}/${nick}`;
  }

  get affiliation(): Affiliation {
    return this.room.affiliationOf(this.bare);
  }

  rename(nick: string): void {
    this.nick = nick;
    this.jid = `${this.roomJid}/${nick}`;
  }

  get isModerator(): boolean {
    return this.role === "moderator";
  }

  latestSession(): string {
    let last = "";
    for (const s of this.sessions) last = s;
    return last;
  }
}
