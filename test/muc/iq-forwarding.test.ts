import { describe, expect, test } from "bun:test";
import { DOMAIN, errorCondition, lobby } from "./fixture.ts";

/**
 * IQs between occupants (XEP-0045 §7.2 "IQ requests to occupant JIDs"): the
 * room passes a request to one session of the target, from the asker's
 * occupant JID, and routes the answer back to the asking session — never
 * revealing either side's real JID.
 */

const ALICE = "alice@a.test/phone";
const ALICE2 = "alice@a.test/laptop";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;
const VERSION = "<query xmlns='jabber:iq:version'/>";

const room = () => lobby([ALICE, "Alice"], [ALICE2, "Alice"], [BOB, "Bob"]);

describe("IQ forwarding between occupants", () => {
  test("a request reaches one session of the target from the asker's occupant JID, payload intact", () => {
    const f = room();
    const out = f.iq(BOB, `${ROOM}/Alice`, "get", VERSION, "v1");
    expect(out).toHaveLength(1);
    const fwd = out[0]!;
    expect(fwd.attrs.from).toBe(`${ROOM}/Bob`);
    expect([ALICE, ALICE2]).toContain(fwd.attrs.to!);
    expect(fwd.attrs.type).toBe("get");
    expect(fwd.attrs.id).not.toBe("v1"); // tagged so the answer can find its way back
    expect(fwd.getChild("query", "jabber:iq:version")).toBeDefined();
    expect(fwd.toString()).not.toContain("bob@b.test");
  });

  test("the answer goes back to the asking session with the original id, from the answerer's occupant JID", () => {
    const f = room();
    const fwd = f.iq(BOB, `${ROOM}/Alice`, "get", VERSION, "v1")[0]!;
    const back = f.send(
      `<iq type='result' id='${fwd.attrs.id}' from='${fwd.attrs.to}' to='${ROOM}/Bob'><query xmlns='jabber:iq:version'><name>x</name></query></iq>`,
    );
    expect(back).toHaveLength(1);
    expect(back[0]!.attrs).toEqual({ type: "result", id: "v1", from: `${ROOM}/Alice`, to: BOB });
    expect(back[0]!.getChild("query")!.getChildText("name")).toBe("x");
  });

  test("with a multi-session asker, each answer goes to the session that asked", () => {
    const f = room();
    const fromPhone = f.iq(ALICE, `${ROOM}/Bob`, "get", VERSION, "same-id")[0]!;
    const fromLaptop = f.iq(ALICE2, `${ROOM}/Bob`, "get", VERSION, "same-id")[0]!;
    expect(fromPhone.attrs.to).toBe(BOB);
    expect(fromPhone.attrs.id).not.toBe(fromLaptop.attrs.id);
    const answer = (id: string) => f.send(`<iq type='result' id='${id}' from='${BOB}' to='${ROOM}/Alice'/>`);
    expect(answer(fromLaptop.attrs.id!).map((s) => [s.attrs.to, s.attrs.id])).toEqual([[ALICE2, "same-id"]]);
    expect(answer(fromPhone.attrs.id!).map((s) => [s.attrs.to, s.attrs.id])).toEqual([[ALICE, "same-id"]]);
  });

  test("ids containing dots survive the round trip", () => {
    const f = room();
    const fwd = f.iq(BOB, `${ROOM}/Alice`, "get", VERSION, "a.b.c")[0]!;
    const back = f.send(`<iq type='result' id='${fwd.attrs.id}' from='${fwd.attrs.to}' to='${ROOM}/Bob'/>`);
    expect(back[0]!.attrs.id).toBe("a.b.c");
  });

  test("error answers are routed back the same way", () => {
    const f = room();
    const fwd = f.iq(BOB, `${ROOM}/Alice`, "get", VERSION, "v2")[0]!;
    const back = f.send(
      `<iq type='error' id='${fwd.attrs.id}' from='${fwd.attrs.to}' to='${ROOM}/Bob'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
    expect(back[0]!.attrs).toMatchObject({ type: "error", id: "v2", to: BOB, from: `${ROOM}/Alice` });
    expect(errorCondition(back[0]!)).toBe("service-unavailable");
  });

  test("answers with a forged or unknown tag, or from non-occupants, are dropped", () => {
    const f = room();
    const fwd = f.iq(BOB, `${ROOM}/Alice`, "get", VERSION, "v3")[0]!;
    expect(f.send(`<iq type='result' id='nottagged' from='${ALICE}' to='${ROOM}/Bob'/>`)).toEqual([]);
    expect(f.send(`<iq type='result' id='AAAAAAAAAAA.v3' from='${ALICE}' to='${ROOM}/Bob'/>`)).toEqual([]);
    expect(f.send(`<iq type='result' id='${fwd.attrs.id}' from='mallory@m.test/x' to='${ROOM}/Bob'/>`)).toEqual([]);
    expect(f.send(`<iq type='result' id='${fwd.attrs.id}' from='${ALICE}' to='${ROOM}/Nobody'/>`)).toEqual([]);
  });

  test("a request from a non-occupant is not-acceptable and not forwarded", () => {
    const f = room();
    const out = f.iq("mallory@m.test/x", `${ROOM}/Alice`, "get", VERSION);
    expect(out.map((s) => s.attrs.to)).toEqual(["mallory@m.test/x"]);
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("a request to a nick nobody holds is item-not-found", () => {
    const f = room();
    expect(errorCondition(f.iq(BOB, `${ROOM}/Nobody`, "get", VERSION)[0]!)).toBe("item-not-found");
  });

  test("a set is forwarded as a set", () => {
    const f = room();
    const out = f.iq(BOB, `${ROOM}/Alice`, "set", "<query xmlns='urn:example'/>");
    expect(out[0]!.attrs.type).toBe("set");
  });
});
