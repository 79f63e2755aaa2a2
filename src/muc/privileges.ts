import type { Affiliation, Role } from "./occupant.ts";

/**
 * Who may change whose role or affiliation: the privilege tables of
 * XEP-0045 §5.1 and §5.2 with the error conditions of the use cases that
 * apply them (§8.2–§8.5 moderators, §9 admins, §10.3–§10.7 owners). Pure
 * functions of the facts, so the muc#admin dispatcher (features/admin.ts),
 * voice requests and the configuration form all decide the same way.
 */

export type Verdict = "allowed" | "forbidden" | "not-allowed" | "conflict";

const RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };

const isAdminOrOwner = (a: Affiliation) => a === "admin" || a === "owner";

/** An affiliation change asked by an actor (§9.1–§9.5, §10.3–§10.7). */
export interface AffiliationRequest {
  /** The actor's affiliation (its bare JID's). */
  readonly actor: Affiliation;
  /** The target's affiliation now (its own record, not one inherited from a banned domain). */
  readonly target: Affiliation;
  readonly requested: Affiliation;
  /** The actor names its own bare JID. */
  readonly self: boolean;
  /** Owners other than the target exist (after the rest of the request). */
  readonly otherOwners: boolean;
}

export function affiliationVerdict(r: AffiliationRequest): Verdict {
  // §9 intro: admin use cases are refused with forbidden to anyone who is not an admin or owner.
  if (!isAdminOrOwner(r.actor)) return "forbidden";
  // §9.1: "If an admin or owner attempts to ban himself … conflict".
  if (r.self && r.requested === "outcast") return "conflict";
  if (r.actor === "owner") {
    // §10.5, §10.6: an owner may not leave the room without owners.
    if (r.target === "owner" && r.requested !== "owner" && !r.otherOwners) return "conflict";
    return "allowed";
  }
  // The actor is an admin. §10.3–§10.7: granting or revoking owner and admin
  // status is for owners only (forbidden).
  if (isAdminOrOwner(r.requested)) return "forbidden";
  if (isAdminOrOwner(r.target)) {
    // §9.1: "a user cannot be banned by an admin with a lower affiliation" —
    // nor by one of the same (not-allowed); taking an admin's or owner's
    // status away otherwise is an owner's use case (forbidden).
    return r.requested === "outcast" ? "not-allowed" : "forbidden";
  }
  // §5.2: admins edit the member list and the ban list of everyone below them.
  return "allowed";
}

/** A role change asked by an occupant (§8.2–§8.5 moderators, §9.6–§9.7 admins). */
export interface RoleRequest {
  readonly actor: { readonly affiliation: Affiliation; readonly role: Role };
  readonly target: { readonly affiliation: Affiliation; readonly role: Role };
  readonly requested: Role;
}

export function roleVerdict(r: RoleRequest): Verdict {
  const { actor, target, requested } = r;
  // §8 intro: moderator use cases are refused with forbidden to anyone who is not a moderator.
  if (actor.role !== "moderator") return "forbidden";
  const actorRank = RANK[actor.affiliation];
  const targetRank = RANK[target.affiliation];
  if (requested === "none") {
    // §8.2: "A user cannot be kicked by a moderator with a lower affiliation",
    // and admins and owners not by someone of their own affiliation either
    // (§5.1.3: moderators of the same standing do not remove each other).
    if (targetRank > actorRank || (isAdminOrOwner(target.affiliation) && targetRank >= actorRank)) return "not-allowed";
    // §5.1.3 table 4: a moderator is kicked by an admin or owner only.
    if (target.role === "moderator" && !isAdminOrOwner(actor.affiliation)) return "forbidden";
    return "allowed";
  }
  // §9.6, §9.7, §5.2 "Assign and Remove Moderator Role": admins and owners only.
  if (requested === "moderator" || target.role === "moderator") {
    if (!isAdminOrOwner(actor.affiliation)) return "forbidden";
    // §9.7: "moderator status cannot be revoked from a room owner or room admin".
    if (target.role === "moderator" && requested !== "moderator" && isAdminOrOwner(target.affiliation)) return "not-allowed";
    return "allowed";
  }
  if (requested === "visitor" && target.role !== "visitor") {
    // §8.4: no one revokes the voice of an admin or owner, nor a moderator
    // the voice of someone at or above its own affiliation.
    if (isAdminOrOwner(target.affiliation) || targetRank >= actorRank) return "not-allowed";
  }
  // §8.3: any moderator grants voice.
  return "allowed";
}

