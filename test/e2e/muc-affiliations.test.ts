/**
 * XEP-0045 affiliations and roles through a real Prosody with real clients:
 * a ban (§9.1) removes with 301 and the outcast's rejoin is refused before
 * the HTTP authorization service is asked; the affiliation lists (§9.2,
 * §9.5, §10.5); voice granted and revoked in a moderated room (§8.3, §8.4);
 * a participant's ban attempt is forbidden.
 */
import { describe, expect, test } from "bun:test";
import { groupchat, joinPresence, NS_MUC_USER, statusCodes, xml, type Element, type TestClient } from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import { errorOf, fromRoom, groupchatFrom, join, mucItem, NS_MUC_ADMIN, NS_MUC_OWNER, presenceFrom, aliceAndBob } from "./muc-fixture.ts";

// Every join asks the backend (no cached decisions), so a request not made is one the ban saved.
const rig = useRig({ mucgates: { mucgate: { config: { muc_http_auth_cache_ttl: 0, muc_http_auth_negative_cache_ttl: 0 } } } });

const NS_DATA = "jabber:x:data";

function admin(room: string, type: "get" | "set", ...items: Element[]): Element {
  return xml("iq", { type, to: room }, xml("query", { xmlns: NS_MUC_ADMIN }, ...items));
}

function item(attrs: Record<string, string>, reason?: string): Element {
  return xml("item", attrs, reason ? xml("reason", {}, reason) : null);
}

/** The items of a muc#admin list result, as attributes plus the reason. */
function listed(result: Element): Record<string, string | undefined>[] {
  expect(result.attrs.type).toBe("result");
  return result
    .getChild("query", NS_MUC_ADMIN)!
    .getChildren("item")
    .map((i): Record<string, string | undefined> => ({ ...(i.attrs as Record<string, string>), reason: i.getChildText("reason") ?? undefined }))
    .sort((a, b) => (a.jid ?? "").localeCompare(b.jid ?? ""));
}

const joinsBy = (who: TestClient) => rig.auth.requests.filter((r) => r.userJID === who.bareJid).length;


describe("bans (§9.1)", () => {
  test("the outcast leaves with 301, reason and actor; its rejoin is forbidden and costs no HTTP request", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "ban");
    expect(joinsBy(bob)).toBe(1);

    const result = await alice.iq(admin(room, "set", item({ affiliation: "outcast", jid: bob.bareJid }, "Spam")));
    expect(result.attrs).toMatchObject({ type: "result", from: room });

    const removed = await bob.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(removed).sort()).toEqual([110, 301]);
    const mine = removed.getChild("x", NS_MUC_USER)!.getChild("item")!;
    expect(mine.attrs).toMatchObject({ affiliation: "outcast", role: "none" });
    expect(mine.getChildText("reason")).toBe("Spam");
    expect(mine.getChild("actor")?.attrs.nick).toBe("Alice");
    const seen = await alice.waitFor(presenceFrom(`${room}/Bob`, "unavailable"));
    expect(statusCodes(seen)).toEqual([301]);

    const mark = bob.mark();
    await bob.send(joinPresence(`${room}/Bob`));
    const refused = await bob.waitFor((s) => s.name === "presence" && s.attrs.type === "error" && fromRoom(room)(s), { since: mark });
    expect(errorOf(refused)).toEqual({ type: "auth", condition: "forbidden" });
    expect(joinsBy(bob)).toBe(1);
    await alice.expectNothing(presenceFrom(`${room}/Bob`), 200);

    // The count is live: another user's join is asked about.
    const carol = await rig.client("carol");
    await join(carol, room, "Carol");
    expect(joinsBy(carol)).toBe(1);

    // Lifted, the ban no longer stands in the way (and the backend is asked again).
    expect((await alice.iq(admin(room, "set", item({ affiliation: "none", jid: bob.bareJid })))).attrs.type).toBe("result");
    await join(bob, room, "Bob");
    expect(joinsBy(bob)).toBe(2);
  });

  test("a participant's ban attempt is forbidden and removes nobody", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "ban-refused");
    const refused = await bob.iq(admin(room, "set", item({ affiliation: "outcast", jid: alice.bareJid })));
    expect(errorOf(refused)).toEqual({ type: "auth", condition: "forbidden" });
    await alice.expectNothing(presenceFrom(`${room}/Alice`, "unavailable"), 200);
    await bob.send(groupchat(room, "still here"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "still here"));
  });
});

describe("affiliation lists (§9.2, §9.5, §10.5)", () => {
  test("grants show in presence and in each list, with the reasons; participants may not read them", async () => {
    const { room, alice, bob } = await aliceAndBob(rig, "lists");
    const set = await alice.iq(
      admin(
        room,
        "set",
        item({ affiliation: "member", jid: bob.bareJid }, "Regular"),
        item({ affiliation: "admin", jid: "dave@localhost" }),
        item({ affiliation: "outcast", jid: "spammer@localhost" }, "Spam"),
      ),
    );
    expect(set.attrs.type).toBe("result");
    const notice = await bob.waitFor(presenceFrom(`${room}/Bob`));
    expect(mucItem(notice)).toMatchObject({ affiliation: "member", role: "participant" });

    expect(listed(await alice.iq(admin(room, "get", item({ affiliation: "member" }))))).toEqual([{ affiliation: "member", jid: bob.bareJid, reason: "Regular" }]);
    expect(listed(await alice.iq(admin(room, "get", item({ affiliation: "admin" }))))).toEqual([{ affiliation: "admin", jid: "dave@localhost", reason: undefined }]);
    expect(listed(await alice.iq(admin(room, "get", item({ affiliation: "owner" }))))).toEqual([{ affiliation: "owner", jid: alice.bareJid, reason: undefined }]);
    expect(listed(await alice.iq(admin(room, "get", item({ affiliation: "outcast" }))))).toEqual([{ affiliation: "outcast", jid: "spammer@localhost", reason: "Spam" }]);

    expect(errorOf(await bob.iq(admin(room, "get", item({ affiliation: "outcast" }))))).toEqual({ type: "auth", condition: "forbidden" });
    // The only owner may not step down (conflict).
    expect(errorOf(await alice.iq(admin(room, "set", item({ affiliation: "admin", jid: alice.bareJid }))))).toEqual({ type: "cancel", condition: "conflict" });
  });
});

describe("voice in a moderated room (§8.3, §8.4)", () => {
  test("a newcomer is a visitor whose message is refused; granted voice it speaks; revoked, it is silenced again", async () => {
    const room = rig.room("moderated");
    const alice = await rig.client("alice");
    await join(alice, room, "Alice");
    const form = xml(
      "x",
      { xmlns: NS_DATA, type: "submit" },
      xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#roomconfig")),
      xml("field", { var: "muc#roomconfig_moderatedroom" }, xml("value", {}, "1")),
    );
    expect((await alice.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, form)))).attrs.type).toBe("result");

    const bob = await rig.client("bob");
    const { self } = await join(bob, room, "Bob");
    expect(mucItem(self)).toMatchObject({ affiliation: "none", role: "visitor" });
    await bob.send(groupchat(room, "may I speak?", "q1"));
    const refused = await bob.waitFor((s) => s.name === "message" && s.attrs.type === "error" && s.attrs.id === "q1");
    expect(errorOf(refused)).toEqual({ type: "auth", condition: "forbidden" });
    await alice.expectNothing(groupchatFrom(`${room}/Bob`, "may I speak?"), 200);

    expect((await alice.iq(admin(room, "set", item({ nick: "Bob", role: "participant" }, "Go ahead")))).attrs.type).toBe("result");
    const voiced = await bob.waitFor(presenceFrom(`${room}/Bob`));
    expect(mucItem(voiced)).toMatchObject({ role: "participant" });
    await bob.send(groupchat(room, "thank you"));
    await alice.waitFor(groupchatFrom(`${room}/Bob`, "thank you"));

    const voices = listed(await alice.iq(admin(room, "get", item({ role: "participant" }))));
    expect(voices.map((v) => v.nick)).toEqual(["Bob"]);

    expect((await alice.iq(admin(room, "set", item({ nick: "Bob", role: "visitor" })))).attrs.type).toBe("result");
    expect(mucItem(await bob.waitFor(presenceFrom(`${room}/Bob`)))).toMatchObject({ role: "visitor" });
    await bob.send(groupchat(room, "again?", "q2"));
    expect(errorOf(await bob.waitFor((s) => s.name === "message" && s.attrs.type === "error" && s.attrs.id === "q2"))).toEqual({ type: "auth", condition: "forbidden" });
  });
});
