import type { Element } from "@xmpp/xml";
import { parseJid } from "../../jid.ts";
import { changeAffiliation } from "../change-affiliation.ts";
import type { Feature, IqContext } from "../hooks.ts";
import { nickConflict } from "../join.ts";
import { NS } from "../namespaces.ts";
import { prepareNick } from "../nick.ts";
import type { Affiliation, Occupant, Role } from "../occupant.ts";
import { affiliationVerdict, roleVerdict, type Verdict } from "../privileges.ts";
import { refuse } from "../stanza-error.ts";
import { element } from "../stanza.ts";
import { kickOccupants } from "./kick.ts";

/**
 * The muc#admin namespace (XEP-0045 §8.2–§8.5, §9, §10.3–§10.8): one
 * dispatcher for every item. An item with a `role` changes an occupant's
 * role by nick (kick, voice, moderator); one with an `affiliation` changes
 * a bare JID's affiliation (ban, member, admin, owner). Who may do what is
 * privileges.ts. A set is all or nothing: every item is checked before any
 * is applied, and a request that would leave the room without an owner is
 * refused whole (§10.5 conflict). A get returns one list: by affiliation
 * (with the reasons kept) or by role.
 */

const AFFILIATIONS = new Set<string>(["owner", "admin", "member", "none", "outcast"]);
const ROLES = new Set<string>(["moderator", "participant", "visitor", "none"]);

type Plan =
  | { readonly kind: "role"; readonly target: Occupant; readonly role: Role; readonly reason: string | undefined }
  | { readonly kind: "affiliation"; readonly jid: string; readonly affiliation: Affiliation; readonly reason: string | undefined; readonly nick: string | undefined };

function refusal(verdict: Exclude<Verdict, "allowed">, text: string) {
  return verdict === "forbidden" ? refuse.forbidden(text) : verdict === "conflict" ? refuse.conflict(text) : refuse.notAllowed(text);
}

function reasonOf(item: Element): string | undefined {
  return item.getChildText("reason") || undefined;
}

/** What one item asks, resolved against the room; throws bad-request or item-not-found. */
function parseItem({ room, occupant }: IqContext, item: Element): Plan {
  const r = room!;
  const { role, affiliation } = item.attrs;
  if (role !== undefined && affiliation !== undefined) {
    // §8.5, §9.2: a role item MUST NOT carry an affiliation, nor the reverse.
    throw refuse.badRequest("An item changes a role or an affiliation, not both");
  }
  if (role !== undefined) {
    if (!ROLES.has(role)) throw refuse.badRequest(`Unknown role '${role}'`);
    if (!item.attrs.nick) throw refuse.badRequest("A role change names the occupant's nick");
    // §8: roles are changed by occupants; someone outside learns nothing of who is inside.
    if (!occupant) throw refuse.notInRoom();
    const target = r.occupants.get(item.attrs.nick);
    if (!target) throw refuse.itemNotFound(`No occupant with the nick '${item.attrs.nick}'`);
    return { kind: "role", target, role: role as Role, reason: reasonOf(item) };
  }
  if (affiliation !== undefined) {
    if (!AFFILIATIONS.has(affiliation)) throw refuse.badRequest(`Unknown affiliation '${affiliation}'`);
    let jid: string;
    if (item.attrs.jid !== undefined) {
      // §10.3: a full JID stands for its bare JID.
      const parsed = parseJid(item.attrs.jid);
      if (!parsed) throw refuse.jidMalformed(`'${item.attrs.jid}' is not a JID`);
      jid = parsed.bare;
    } else if (item.attrs.nick !== undefined) {
      // Some clients name an occupant by nick (as Prosody accepts).
      const occupant = r.occupants.get(item.attrs.nick);
      if (!occupant) throw refuse.itemNotFound(`No occupant with the nick '${item.attrs.nick}'`);
      jid = occupant.bare;
    } else {
      throw refuse.badRequest("An affiliation change names a JID");
    }
    let nick: string | undefined;
    if (item.attrs.jid !== undefined && item.attrs.nick !== undefined) {
      // §9.5: with the member list, the nick reserved for the member ("" to drop it).
      if (item.attrs.nick === "") nick = "";
      else {
        const prepared = prepareNick(item.attrs.nick);
        if (!("nick" in prepared)) throw prepared;
        nick = prepared.nick;
      }
    }
    return { kind: "affiliation", jid, affiliation: affiliation as Affiliation, reason: reasonOf(item), nick };
  }
  throw refuse.badRequest("An item names a role or an affiliation");
}

function set(context: IqContext): undefined {
  const { core, room, occupant: actor, from, payload, turn } = context;
  const r = room!;
  const items = payload.getChildren("item");
  if (items.length === 0) throw refuse.badRequest("Expected an <item/>");
  const plans = items.map((item) => parseItem(context, item));
  const actorAffiliation = r.affiliationOf(from.bare);

  // The owners once the whole request is applied (§10.5: never none).
  const owners = new Set([...r.affiliations].filter(([, e]) => e.affiliation === "owner").map(([jid]) => jid));
  for (const plan of plans) {
    if (plan.kind !== "affiliation") continue;
    if (plan.affiliation === "owner") owners.add(plan.jid);
    else owners.delete(plan.jid);
  }

  // Check every item before acting on any.
  for (const plan of plans) {
    if (plan.kind === "role") {
      const verdict = roleVerdict({
        actor: { affiliation: actor!.affiliation, role: actor!.role },
        target: { affiliation: plan.target.affiliation, role: plan.target.role },
        requested: plan.role,
      });
      if (verdict !== "allowed") throw refusal(verdict, plan.role === "none" ? `You may not kick '${plan.target.nick}'` : `You may not give '${plan.target.nick}' the role ${plan.role}`);
    } else {
      const verdict = affiliationVerdict({
        actor: actorAffiliation,
        target: r.affiliations.get(plan.jid)?.affiliation ?? "none",
        requested: plan.affiliation,
        self: plan.jid === from.bare,
        otherOwners: [...owners].some((jid) => jid !== plan.jid),
      });
      if (verdict !== "allowed") throw refusal(verdict, verdict === "conflict" ? (plan.affiliation === "outcast" ? "You may not ban yourself" : "The room would have no owner") : `You may not give ${plan.jid} the affiliation ${plan.affiliation}`);
      if (plan.nick) {
        const taken = nickConflict(core, r, plan.nick, plan.jid);
        if (taken) throw taken;
      }
    }
  }
  if (owners.size === 0) throw refuse.conflict("The room would have no owner");

  for (const plan of plans) {
    if (plan.kind === "role") {
      if (r.occupants.get(plan.target.nick) !== plan.target) continue; // named twice, or banned by an earlier item
      if (plan.role === "none") {
        kickOccupants(core, r, [plan.target], { reason: plan.reason, actor: actor!.nick }, turn);
        core.metrics?.kicks.xmpp.inc();
      } else {
        r.setRole(plan.target, plan.role, { reason: plan.reason, actor: actor!.nick }, turn);
      }
    } else {
      changeAffiliation(core, r, plan.jid, plan.affiliation, { reason: plan.reason, actor: actor?.nick, nick: plan.nick }, turn);
    }
    if (r.destroyed) break;
  }
  return undefined;
}

function get({ room, occupant, from, payload }: IqContext): Element {
  const r = room!;
  const items = payload.getChildren("item");
  if (items.length !== 1) throw refuse.badRequest("Ask for one list: one <item/>");
  const { affiliation, role } = items[0]!.attrs;
  const listed: Element[] = [];
  if (affiliation !== undefined && role === undefined) {
    if (!AFFILIATIONS.has(affiliation) || affiliation === "none") throw refuse.badRequest(`No list of affiliation '${affiliation}'`);
    const asker = r.affiliationOf(from.bare);
    // §5.2, §10.5, §10.8: the owner and admin lists are for owners; §9.2,
    // §9.5 the ban and member lists for admins and owners (the room is
    // semi-anonymous: members may not see the member list, §5.2 ***).
    const may = asker === "owner" || (asker === "admin" && (affiliation === "member" || affiliation === "outcast"));
    if (!may) throw refuse.forbidden(`You may not see the ${affiliation} list`);
    for (const [jid, entry] of r.affiliations) {
      if (entry.affiliation !== affiliation) continue;
      const attrs: Record<string, string> = { affiliation, jid };
      const nick = r.registrationOf(jid);
      if (nick !== undefined) attrs.nick = nick;
      listed.push(element("item", attrs, entry.reason ? [element("reason", {}, [entry.reason])] : []));
    }
  } else if (role !== undefined && affiliation === undefined) {
    if (!ROLES.has(role) || role === "none") throw refuse.badRequest(`No list of role '${role}'`);
    if (!occupant) throw refuse.notInRoom();
    // §8.5 the voice list is for moderators; §9.8 the moderator list for admins and owners.
    if (!occupant.isModerator) throw refuse.forbidden("Only moderators may see who has which role");
    if (role === "moderator" && occupant.affiliation !== "owner" && occupant.affiliation !== "admin") {
      throw refuse.forbidden("Only admins and owners may see the moderator list");
    }
    for (const o of r.occupants.values()) {
      if (o.role === role) listed.push(element("item", { affiliation: o.affiliation, jid: o.latestSession(), nick: o.nick, role }));
    }
  } else {
    throw refuse.badRequest("Ask for a list by affiliation or by role");
  }
  return element("query", { xmlns: NS.MUC_ADMIN }, listed);
}

export const admin: Feature = {
  name: "admin",
  iq: [
    { to: "room", type: "set", xmlns: NS.MUC_ADMIN, name: "query", handle: set },
    { to: "room", type: "get", xmlns: NS.MUC_ADMIN, name: "query", handle: get },
  ],
};
