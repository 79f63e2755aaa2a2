import type { Node } from "@xmpp/xml";

/** XEP-0045 §5.1 roles and §5.2 affiliations. */
export type Role = "moderator" | "participant" | "visitor" | "none";
export type Affiliation = "owner" | "admin" | "member" | "none" | "outcast";

const AFFILIATION_RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };

export function affiliationRank(a: Affiliation): number {
  return AFFILIATION_RANK[a];
}

/** XEP-0045 §5.1.2: owners and admins are moderators; everyone else participates (open, unmoderated rooms). */
export function defaultRole(affiliation: Affiliation): Role {
  return affiliationRank(affiliation) >= AFFILIATION_RANK.admin ? "moderator" : "participant";
}

/**
 * One nickname in one room. A user may sit in it with several sessions
 * (resources) at once — XEP-0045 §7.2 multi-session nicks — and each session
 * keeps the last presence it sent; the occupant shows the latest of them.
 */
export class Occupant {
  /** Real full JIDs of the sessions sitting in this nick, oldest first. */
  readonly sessions = new Set<string>();
  /**
   * What the room shows of the occupant's presence: the children of the last
   * presence any of its sessions sent (show, status, caps…), without the MUC
   * elements. Only this is kept, not the stanza.
   */
  payload: Node[];
  /** `room@service/nick`, kept in step with `nick`. */
  jid: string;

  constructor(
    readonly roomJid: string,
    public nick: string,
    /** Normalised real bare JID. */
    readonly bare: string,
    /** XEP-0421 id, stable per (room, bare JID). */
    readonly occupantId: string,
    public affiliation: Affiliation,
    public role: Role,
    session: string,
    payload: Node[],
  ) {
    this.sessions.add(session);
    this.payload = payload;
    this.jid = `${roomJid}/${nick}`;
  }

  rename(nick: string): void {
    this.nick = nick;
    this.jid = `${this.roomJid}/${nick}`;
  }

  get isModerator(): boolean {
    return this.role === "moderator";
  }

  /** The most recently joined session, for IQs that must go to one resource. */
  latestSession(): string {
    let last = "";
    for (const s of this.sessions) last = s;
    return last;
  }
}
