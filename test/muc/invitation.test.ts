import { describe, expect, test } from "bun:test";
import { DOMAIN, MUC_USER, errorCondition, fixture } from "./fixture.ts";

/** XEP-0045 §7.8.2 mediated invitations. */

const ALICE = "alice@a.test/phone";
const ROOM = `lobby@${DOMAIN}`;

const invite = (from: string, invitee: string, reason = "") =>
  `<message from='${from}' to='${ROOM}'><x xmlns='${MUC_USER}'><invite to='${invitee}'>${reason ? `<reason>${reason}</reason>` : ""}</invite></x></message>`;

describe("mediated invitations", () => {
  test("the room forwards the invitation to the invitee, naming the invitor and keeping the reason", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.send(invite(ALICE, "hecate@h.test", "Come along"));
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ from: ROOM, to: "hecate@h.test" });
    const inv = out[0]!.getChild("x", MUC_USER)!.getChild("invite")!;
    expect(inv.attrs.from).toBe(ALICE);
    expect(inv.getChildText("reason")).toBe("Come along");
  });

  test("someone not in the room cannot invite through it (not-acceptable)", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.send(invite("mallory@m.test/x", "victim@v.test"));
    expect(out.map((s) => s.attrs.to)).toEqual(["mallory@m.test/x"]);
    expect(errorCondition(out[0]!)).toBe("not-acceptable");
  });

  test("an invitation without a valid invitee is jid-malformed", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.send(`<message from='${ALICE}' to='${ROOM}'><x xmlns='${MUC_USER}'><invite/></x></message>`);
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
  });

  test("an invitee's decline goes back to the inviter, from the room, naming the decliner's bare JID, with its reason and id (Examples 61–62)", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.send(
      `<message from='hecate@h.test/broom' id='jk2vs61v' to='${ROOM}'><x xmlns='${MUC_USER}'><decline to='alice@a.test'><reason>Too busy</reason></decline></x></message>`,
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.attrs).toEqual({ from: ROOM, to: "alice@a.test", id: "jk2vs61v" });
    const decline = out[0]!.getChild("x", MUC_USER)!.getChild("decline")!;
    expect(decline.attrs.from).toBe("hecate@h.test");
    expect(decline.getChildText("reason")).toBe("Too busy");
  });

  test("a decline without a valid inviter is jid-malformed, to the decliner", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    const out = f.send(`<message from='hecate@h.test/broom' to='${ROOM}'><x xmlns='${MUC_USER}'><decline/></x></message>`);
    expect(out.map((s) => s.attrs.to)).toEqual(["hecate@h.test/broom"]);
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
  });
});
