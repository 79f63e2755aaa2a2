import { describe, expect, test } from "bun:test";
import { DEFAULT_ROOM_CONFIG } from "../../src/muc/room-config.ts";
import { DISCO_INFO, DOMAIN, MUC_USER, fixture, itemOf, statuses, to, type Fixture } from "./fixture.ts";

/** XEP-0045 §10.2 whois: semi-anonymous (§4.2) and non-anonymous rooms; status 100, 172, 173. */

const OWNER = "owner@a.test/phone";
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/x";
const ROOM = `open@${DOMAIN}`;

function nonAnonymous(): Fixture {
  const f = fixture();
  f.join(OWNER, "open", "Owner");
  f.configure(OWNER, "open", { "muc#roomconfig_whois": "anyone" });
  return f;
}

const features = (f: Fixture) => f.iq(CAROL, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);
const presenceFrom = (out: ReturnType<Fixture["send"]>, recipient: string, nick: string) =>
  to(out, recipient).find((s) => s.name === "presence" && s.attrs.from === `${ROOM}/${nick}`)!;

describe("non-anonymous rooms (whois anyone)", () => {
  test("a newcomer's self-presence has 100 and it sees every occupant's real JID; everyone sees its own", () => {
    const f = nonAnonymous();
    f.join(BOB, "open", "Bob");
    const out = f.join(CAROL, "open", "Carol");
    const self = presenceFrom(out, CAROL, "Carol");
    expect(statuses(self)).toEqual(expect.arrayContaining(["100", "110"]));
    expect(itemOf(presenceFrom(out, CAROL, "Bob"))!.attrs.jid).toBe(BOB);
    expect(itemOf(presenceFrom(out, CAROL, "Owner"))!.attrs.jid).toBe(OWNER);
    expect(itemOf(presenceFrom(out, BOB, "Carol"))!.attrs.jid).toBe(CAROL);
    expect(statuses(presenceFrom(out, BOB, "Carol"))).not.toContain("100");
    expect(features(f)).toContain("muc_nonanonymous");
    expect(features(f)).not.toContain("muc_semianonymous");
  });

  test("a semi-anonymous room shows real JIDs to moderators only, and sends no 100", () => {
    const f = fixture();
    f.join(OWNER, "open", "Owner");
    f.join(BOB, "open", "Bob");
    const out = f.join(CAROL, "open", "Carol");
    expect(statuses(presenceFrom(out, CAROL, "Carol"))).not.toContain("100");
    expect(itemOf(presenceFrom(out, CAROL, "Bob"))!.attrs.jid).toBeUndefined();
    expect(itemOf(presenceFrom(out, BOB, "Carol"))!.attrs.jid).toBeUndefined();
    expect(itemOf(presenceFrom(out, OWNER, "Carol"))!.attrs.jid).toBe(CAROL);
    expect(features(f)).toContain("muc_semianonymous");
  });

  test("presence updates in a non-anonymous room carry the real JID to everyone", () => {
    const f = nonAnonymous();
    f.join(BOB, "open", "Bob");
    const out = f.presence(BOB, "open", "Bob", "<show>away</show>");
    expect(itemOf(presenceFrom(out, OWNER, "Bob"))!.attrs.jid).toBe(BOB);
    f.join(CAROL, "open", "Carol");
    const update = f.presence(BOB, "open", "Bob", "<show>dnd</show>");
    expect(itemOf(presenceFrom(update, CAROL, "Bob"))!.attrs.jid).toBe(BOB);
  });

  test("becoming non-anonymous tells every occupant 172; semi-anonymous again 173; unchanged, nothing", () => {
    const f = fixture();
    f.join(OWNER, "open", "Owner");
    f.join(BOB, "open", "Bob");
    const notices = (out: ReturnType<Fixture["send"]>) => out.filter((s) => s.name === "message" && s.attrs.from === ROOM);
    const codes = (out: ReturnType<Fixture["send"]>, code: string) => notices(out).filter((m) => statuses(m).includes(code)).map((m) => m.attrs.to).sort();
    const on = f.configure(OWNER, "open", { "muc#roomconfig_whois": "anyone" });
    expect(codes(on, "172")).toEqual([BOB, OWNER].sort());
    expect(notices(on).every((m) => m.attrs.type === "groupchat" && m.getChild("x", MUC_USER) !== undefined)).toBe(true);
    expect(codes(on, "104")).toEqual([]); // a privacy change has its own code
    expect(notices(f.configure(OWNER, "open", { "muc#roomconfig_whois": "anyone" }))).toEqual([]);
    expect(codes(f.configure(OWNER, "open", { "muc#roomconfig_whois": "moderators" }), "173")).toEqual([BOB, OWNER].sort());
  });

  test("a whois value that is not offered is not-acceptable naming the field", () => {
    const f = fixture();
    f.join(OWNER, "open", "Owner");
    const out = f.configure(OWNER, "open", { "muc#roomconfig_whois": "everyone" })[0]!;
    expect(out.getChild("error")).toBeDefined();
    expect(out.toString()).toContain("muc#roomconfig_whois");
    expect(f.service.room(ROOM)!.config.whois).toBe("moderators");
  });

  test("muc_room_default_public_jids makes new rooms non-anonymous", () => {
    const f = fixture({ roomDefaults: { ...DEFAULT_ROOM_CONFIG, whois: "anyone" } });
    expect(statuses(presenceFrom(f.join(OWNER, "open", "Owner"), OWNER, "Owner"))).toContain("100");
  });
});
