import { describe, expect, test } from "bun:test";
import { DATA, DISCO_INFO, DOMAIN, MUC, MUC_OWNER, errorCondition, fixture, statuses, type Fixture } from "./fixture.ts";

/** XEP-0045 §7.2.6 password-protected rooms, §10.2 passwordprotectedroom + roomsecret. */

const OWNER = "owner@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `vault@${DOMAIN}`;

function vault(secret = "cauldronburn"): Fixture {
  const f = fixture();
  f.join(OWNER, "vault", "Owner");
  const out = f.configure(OWNER, "vault", { "muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": secret });
  expect(out[0]!.attrs.type).toBe("result");
  return f;
}

const entered = (out: ReturnType<Fixture["send"]>) => out.some((s) => s.name === "presence" && statuses(s).includes("110") && s.attrs.type !== "unavailable");
const features = (f: Fixture) => f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!.getChildren("feature").map((x) => x.attrs.var);

describe("password-protected rooms", () => {
  test("a join without a password, or with a wrong one, gets not-authorized (auth) and does not enter", () => {
    const f = vault();
    for (const extra of ["", "<password>wrong</password>", "<password/>", "<password>cauldronbur</password>"]) {
      const out = f.join(BOB, "vault", "Bob", extra);
      expect(out).toHaveLength(1);
      expect(errorCondition(out[0]!)).toBe("not-authorized");
      expect(out[0]!.getChild("error")!.attrs.type).toBe("auth");
      expect(out[0]!.getChild("x", MUC)).toBeDefined();
    }
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test("the right password enters, multi-byte secrets included", () => {
    expect(entered(vault().join(BOB, "vault", "Bob", "<password>cauldronburn</password>"))).toBe(true);
    expect(entered(vault("päss wörd ☕").join(BOB, "vault", "Bob", "<password>päss wörd ☕</password>"))).toBe(true);
  });

  test("disco says muc_passwordprotected, an open room muc_unsecured; the secret is in no disco answer", () => {
    const f = vault();
    expect(features(f)).toContain("muc_passwordprotected");
    expect(features(f)).not.toContain("muc_unsecured");
    expect(f.iq(BOB, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.toString()).not.toContain("cauldronburn");
    f.configure(OWNER, "vault", { "muc#roomconfig_passwordprotectedroom": "0" });
    expect(features(f)).toContain("muc_unsecured");
    expect(entered(f.join(BOB, "vault", "Bob"))).toBe(true);
  });

  test("only the owner's form shows the secret (text-private)", () => {
    const f = vault();
    const form = f.iq(OWNER, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.getChild("query")!.getChild("x", DATA)!;
    const secret = form.getChildren("field").find((x) => x.attrs.var === "muc#roomconfig_roomsecret")!;
    expect(secret.attrs.type).toBe("text-private");
    expect(secret.getChildText("value")).toBe("cauldronburn");
    f.join(BOB, "vault", "Bob", "<password>cauldronburn</password>");
    expect(f.iq(BOB, ROOM, "get", `<query xmlns='${MUC_OWNER}'/>`)[0]!.toString()).not.toContain("cauldronburn");
  });

  test("a roomsecret alone (as Prosody's form has it) protects the room; passwordprotectedroom=1 without a secret is not-acceptable naming the field", () => {
    const f = fixture();
    f.join(OWNER, "vault", "Owner");
    const refused = f.configure(OWNER, "vault", { "muc#roomconfig_passwordprotectedroom": "1" })[0]!;
    expect(errorCondition(refused)).toBe("not-acceptable");
    expect(refused.toString()).toContain("muc#roomconfig_passwordprotectedroom");
    expect(f.service.room(ROOM)!.config.password).toBe("");
    f.configure(OWNER, "vault", { "muc#roomconfig_roomsecret": "s3cret" });
    expect(errorCondition(f.join(BOB, "vault", "Bob")[0]!)).toBe("not-authorized");
  });

  test("without the password, a taken nick is not revealed: not-authorized, not conflict", () => {
    const f = vault();
    expect(errorCondition(f.join(BOB, "vault", "Owner")[0]!)).toBe("not-authorized");
    expect(errorCondition(f.join(BOB, "vault", "Owner", "<password>cauldronburn</password>")[0]!)).toBe("conflict");
  });

  test("the owner needs the password too when entering with another session", () => {
    const f = vault();
    expect(errorCondition(f.join("owner@a.test/laptop", "vault", "Owner")[0]!)).toBe("not-authorized");
    expect(entered(f.join("owner@a.test/laptop", "vault", "Owner", "<password>cauldronburn</password>"))).toBe(true);
  });
});
