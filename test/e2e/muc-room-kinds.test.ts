/**
 * Room kinds through a real Prosody with real clients (XEP-0045 §7.2.5
 * members-only, §7.2.6 passwords, §10.2 whois, §7.2.10 maxusers), the
 * exact form Gajim's "Create Group Chat" dialog submits for a private group,
 * and the service's limits on who creates rooms and how many one user is in
 * (README "Limits"; the details are unit tests in test/muc/).
 */
import { describe, expect, test } from "bun:test";
import { groupchat, joinPresence, stanzaError, statusCodes, xml, type Element, type TestClient } from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import { GAJIM_PRIVATE } from "../support/gajim-presets.ts";
import { errorOf, join, mucItem, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC_OWNER, presenceFrom } from "./muc-fixture.ts";

const CAP = 50;
/** A second mucgate, on its own slot, with the service limits: limited.localhost's parent domain is localhost, Prosody's user host. */
const LIMITED = "limited.localhost";
const OTHER = "other.localhost";
const rig = useRig({
  prosody: { extraDomains: [OTHER], components: [{ domain: "rooms.localhost" }, { domain: LIMITED }] },
  mucgates: {
    mucgate: { config: { muc_max_occupants: CAP } },
    limited: { slot: LIMITED, config: { restrict_room_creation: "local", max_user_conferences: 2 } },
  },
});

const DATA = "jabber:x:data";
const ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";

/** The owner's §10.2 form: every field (but FORM_TYPE) with its values. */
async function configForm(owner: TestClient, room: string): Promise<Map<string, string[]>> {
  const answer = await owner.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })));
  expect(answer.attrs.type).toBe("result");
  const form = answer.getChild("query", NS_MUC_OWNER)!.getChild("x", DATA)!;
  const fields = new Map<string, string[]>();
  for (const f of form.getChildren("field")) if (f.attrs.var !== "FORM_TYPE") fields.set(f.attrs.var!, f.getChildren("value").map((v) => v.getText()));
  return fields;
}

async function submit(owner: TestClient, room: string, fields: Iterable<[string, readonly string[]]>): Promise<Element> {
  const children = [xml("field", { var: "FORM_TYPE" }, xml("value", {}, ROOMCONFIG))];
  for (const [name, values] of fields) children.push(xml("field", { var: name }, ...values.map((v) => xml("value", {}, v))));
  return owner.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: DATA, type: "submit" }, ...children))));
}

async function configure(owner: TestClient, room: string, fields: Record<string, string>): Promise<void> {
  const answer = await submit(owner, room, Object.entries(fields).map(([k, v]) => [k, [v]]));
  expect(answer.attrs.type).toBe("result");
}

async function joinError(client: TestClient, occupant: string, password?: string): Promise<{ type: string; condition: string }> {
  await client.send(joinPresence(occupant, password === undefined ? {} : { password }));
  return errorOf(await client.waitFor({ name: "presence", type: "error", from: occupant }));
}

async function features(client: TestClient, room: string): Promise<string[]> {
  const answer = await client.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
  return answer.getChild("query", NS_DISCO_INFO)!.getChildren("feature").map((f) => f.attrs.var!);
}

describe("room kinds through Prosody", () => {
  test("an invitation declined (§7.8.2): the inviter gets the decline from the room, naming the invitee", async () => {
    const room = rig.room("declined");
    const [alice, carol] = await Promise.all([rig.client("alice"), rig.client("carol")]);
    await join(alice, room, "Alice");
    await alice.send(xml("message", { to: room }, xml("x", { xmlns: NS_MUC_USER }, xml("invite", { to: carol.jid.split("/")[0] }))));
    const invitation = await carol.waitFor((s) => s.name === "message" && s.attrs.from === room && s.getChild("x", NS_MUC_USER)?.getChild("invite") !== undefined);
    const inviter = invitation.getChild("x", NS_MUC_USER)!.getChild("invite")!.attrs.from!;
    await carol.send(xml("message", { to: room }, xml("x", { xmlns: NS_MUC_USER }, xml("decline", { to: inviter }, xml("reason", {}, "Busy")))));
    const decline = await alice.waitFor((s) => s.name === "message" && s.attrs.from === room && s.getChild("x", NS_MUC_USER)?.getChild("decline") !== undefined);
    expect(decline.getChild("x", NS_MUC_USER)!.getChild("decline")!.attrs.from).toBe(carol.jid.split("/")[0]);
  });

  test("members-only: a non-member gets registration-required without an HTTP request; an invited user becomes a member and enters", async () => {
    const room = rig.room("club");
    const [alice, bob, carol] = await Promise.all([rig.client("alice"), rig.client("bob"), rig.client("carol")]);
    await join(alice, room, "Alice");
    await configure(alice, room, { "muc#roomconfig_membersonly": "1" });
    const asked = rig.auth.requests.length;
    expect(await joinError(carol, `${room}/Carol`)).toEqual({ type: "auth", condition: "registration-required" });
    expect(rig.auth.requests.length).toBe(asked);
    await alice.send(xml("message", { to: room }, xml("x", { xmlns: NS_MUC_USER }, xml("invite", { to: bob.jid.split("/")[0] }))));
    const invitation = await bob.waitFor((s) => s.name === "message" && s.attrs.from === room);
    expect(invitation.getChild("x", NS_MUC_USER)!.getChild("invite")!.attrs.from).toBe(alice.jid);
    const { self } = await join(bob, room, "Bob");
    expect(mucItem(self).affiliation).toBe("member");
    // A member's join is gated as any other.
    expect(rig.auth.requests.map((r) => r.nickname)).toContain("Bob");
    expect(await features(carol, room)).toContain("muc_membersonly");
  });

  test("password: none or a wrong one gets not-authorized, the right one enters", async () => {
    const room = rig.room("vault");
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    await join(alice, room, "Alice");
    await configure(alice, room, { "muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": "cauldronburn" });
    expect(await features(bob, room)).toContain("muc_passwordprotected");
    expect(await joinError(bob, `${room}/Bob`)).toEqual({ type: "auth", condition: "not-authorized" });
    expect(await joinError(bob, `${room}/Bob`, "cauldron")).toEqual({ type: "auth", condition: "not-authorized" });
    await bob.send(joinPresence(`${room}/Bob`, { password: "cauldronburn" }));
    const self = await bob.waitFor((s) => s.name === "presence" && s.attrs.from === `${room}/Bob` && statusCodes(s).includes(110));
    expect(self.attrs.type).toBeUndefined();
  });

  test("whois anyone: status 100 on entering, real JIDs in every occupant's presence, for everybody; 172 when it changes", async () => {
    const room = rig.room("open");
    const [alice, bob, carol] = await Promise.all([rig.client("alice"), rig.client("bob"), rig.client("carol")]);
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    await configure(alice, room, { "muc#roomconfig_whois": "anyone" });
    const notice = await bob.waitFor((s) => s.name === "message" && s.attrs.from === room && statusCodes(s).includes(172));
    expect(notice.attrs.type).toBe("groupchat");
    const { self, received } = await join(carol, room, "Carol");
    expect(statusCodes(self)).toEqual(expect.arrayContaining([100, 110]));
    const roster = received.filter((s) => s.name === "presence" && s !== self);
    expect(roster.map((p) => [p.attrs.from, mucItem(p).jid]).sort()).toEqual([
      [`${room}/Alice`, alice.jid],
      [`${room}/Bob`, bob.jid],
    ]);
    const carolSeenByBob = await bob.waitFor(presenceFrom(`${room}/Carol`));
    expect(mucItem(carolSeenByBob).jid).toBe(carol.jid);
    expect(await features(carol, room)).toContain("muc_nonanonymous");
  });

  test("maxusers: the one too many gets service-unavailable; the owner still enters", async () => {
    const room = rig.room("small");
    const [alice, bob, carol] = await Promise.all([rig.client("alice"), rig.client("bob"), rig.client("carol")]);
    await join(alice, room, "Alice");
    await configure(alice, room, { "muc#roomconfig_maxusers": "2" });
    await join(bob, room, "Bob");
    expect(await joinError(carol, `${room}/Carol`)).toEqual({ type: "cancel", condition: "service-unavailable" });
    const aliceAgain = await rig.client("alice", "second");
    await join(aliceAgain, room, "Alice2");
  });

  test("muc_max_occupants: the form offers at most the cap, and a value above it is not-acceptable naming the field", async () => {
    const room = rig.room("capped");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    expect((await configForm(alice, room)).get("muc#roomconfig_maxusers")).toEqual([String(CAP)]);
    const refused = await submit(alice, room, [["muc#roomconfig_maxusers", [String(CAP + 1)]]]);
    expect(errorOf(refused)).toEqual({ type: "cancel", condition: "not-acceptable" });
    expect(refused.toString()).toContain("muc#roomconfig_maxusers");
  });

  test("Gajim's 'private group': the form it submits (every field it got, its preset applied) makes the room private", async () => {
    const room = rig.room("gajim-private");
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    // Gajim creates the room by joining, then fetches the form, sets its preset on the fields
    // the form has (gajim/common/modules/muc.py _apply_config over helpers.get_default_muc_config
    // and groupchat_creation.py's private choice) and submits every field.
    const { self } = await join(alice, room, "Alice");
    expect(statusCodes(self)).toContain(201);
    const preset = GAJIM_PRIVATE;
    const form = await configForm(alice, room);
    for (const name of form.keys()) if (name in preset) form.set(name, [preset[name]!]);
    const answer = await submit(alice, room, form);
    expect(answer.attrs.type).toBe("result");
    expect(await features(bob, room)).toEqual(expect.arrayContaining(["muc_membersonly", "muc_hidden", "muc_nonanonymous", "muc_persistent"]));
    const listed = await bob.iq(xml("iq", { type: "get", to: rig.service }, xml("query", { xmlns: NS_DISCO_ITEMS })));
    expect(listed.getChild("query", NS_DISCO_ITEMS)!.getChildren("item").map((i) => i.attrs.jid)).not.toContain(room);
    expect(await joinError(bob, `${room}/Bob`)).toEqual({ type: "auth", condition: "registration-required" });
    // Nothing of the inside for an outsider of a members-only room.
    const info = await bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
    expect(info.toString()).not.toContain("muc#roominfo_occupants");
  });
});

describe("message moderation (XEP-0425) through Prosody", () => {
  const RETRACT = "urn:xmpp:message-retract:1";
  const MODERATE = "urn:xmpp:message-moderate:1";

  test("a moderator retracts a message: everyone gets the retraction, MAM returns the tombstone; a participant is forbidden", async () => {
    const room = rig.room("moderated-msgs");
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    await join(alice, room, "Alice");
    await join(bob, room, "Bob");
    expect(await features(bob, room)).toEqual(expect.arrayContaining([MODERATE, RETRACT]));
    await bob.send(groupchat(room, "buy cheap watches"));
    const echo = await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "buy cheap watches");
    const id = echo.getChildren("stanza-id").find((e) => e.attrs.by === room)!.attrs.id!;
    const moderate = (who: TestClient) =>
      who.iq(xml("iq", { type: "set", to: room }, xml("moderate", { xmlns: MODERATE, id }, xml("retract", { xmlns: RETRACT }), xml("reason", {}, "Spam"))));
    expect(errorOf(await moderate(bob))).toEqual({ type: "auth", condition: "forbidden" });
    expect((await moderate(alice)).attrs.type).toBe("result");
    const notice = await bob.waitFor((s) => s.name === "message" && s.getChild("retract", RETRACT) !== undefined);
    expect(notice.getChild("retract", RETRACT)!.attrs.id).toBe(id);
    expect(notice.getChild("retract", RETRACT)!.getChild("moderated", MODERATE)!.attrs.by).toBe(`${room}/Alice`);
    const done = bob.mark();
    const fin = await bob.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: "urn:xmpp:mam:2", queryid: "q1" })));
    expect(fin.attrs.type).toBe("result");
    const results = bob.stanzas.slice(done).filter((s) => s.name === "message" && s.getChild("result", "urn:xmpp:mam:2"));
    const forwarded = results.map((r) => r.getChild("result", "urn:xmpp:mam:2")!.getChild("forwarded")!.getChild("message")!);
    expect(forwarded.some((m) => m.getChild("retracted", RETRACT) !== undefined)).toBe(true);
    expect(forwarded.map(String).join("")).not.toContain("cheap watches");
  });
});

describe("service limits through Prosody", () => {
  let rooms = 0;
  const limitedRoom = (label: string) => `${label}-${++rooms}@${LIMITED}`;

  /** The error a join gets, with its text, and whether the auth service was asked. */
  async function refusal(client: TestClient, occupant: string): Promise<{ type: string; condition: string; text: string | undefined; asked: boolean }> {
    const before = rig.auth.requests.length;
    await client.send(joinPresence(occupant));
    const error = stanzaError(await client.waitFor({ name: "presence", type: "error", from: occupant }))!;
    return { ...error, asked: rig.auth.requests.length > before };
  }

  test('restrict_room_creation = "local": a user of another domain gets not-allowed creating a room, without the gate asked, and joins one a local user made', async () => {
    const [alice, olga] = await Promise.all([rig.client("alice"), rig.client("olga", { domain: OTHER })]);
    expect(await refusal(olga, `${limitedRoom("olgas")}/Olga`)).toEqual({ type: "cancel", condition: "not-allowed", text: "Room creation is restricted", asked: false });
    const room = limitedRoom("alices");
    await join(alice, room, "Alice");
    await join(olga, room, "Olga");
  });

  test("max_user_conferences = 2: the join into a third room gets resource-constraint with ejabberd's text, without the gate asked; leaving one makes it possible", async () => {
    const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
    const [one, two, three] = [limitedRoom("one"), limitedRoom("two"), limitedRoom("three")];
    await join(alice, one, "Alice");
    await join(alice, two, "Alice");
    await join(bob, three, "Bob");
    expect(await refusal(alice, `${three}/Alice`)).toEqual({ type: "wait", condition: "resource-constraint", text: "You have joined too many conferences", asked: false });
    await alice.send(xml("presence", { to: `${one}/Alice`, type: "unavailable" }));
    await alice.waitFor(presenceFrom(`${one}/Alice`, "unavailable"));
    await join(alice, three, "Alice");
  });
});
