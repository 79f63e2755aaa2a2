import { createHash, timingSafeEqual } from "node:crypto";
import type { Feature } from "../hooks.ts";
import { NS } from "../namespaces.ts";
import { refuse } from "../stanza-error.ts";
import { submittedBoolean, unacceptable } from "./config-fields.ts";

/**
 * §7.2.6 password-protected rooms (muc_passwordprotected; otherwise
 * muc_unsecured): a join must carry the room's secret in
 * `<x xmlns='…muc'><password/></x>`, or it gets not-authorized — owners
 * included, as in Prosody. The secret is one setting (`password`, "" for
 * none): `roomsecret` sets it, `passwordprotectedroom` 0 clears it, 1 needs
 * one (the room cannot be protected by an empty password). Only owners see
 * it (the form is theirs); it is never logged.
 *
 * Checked when the join applies, after the gate (docs/join-checks.md): the
 * gate's answer to a right password would otherwise tell a user the gate
 * denies that the password was right.
 */

const SECRET = "muc#roomconfig_roomsecret";
const PROTECTED = "muc#roomconfig_passwordprotectedroom";

/** Equal strings, in time that does not depend on where they differ. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(secret));
}

export const password: Feature = {
  name: "password",
  config: [
    // The secret is read first, so that `passwordprotectedroom` sees what this form sets.
    {
      var: SECRET,
      type: "text-private",
      label: "Password",
      value: (room) => room.config.password,
      submit(values, draft) {
        if (values[0] !== undefined) draft.password = values[0];
      },
    },
    {
      var: PROTECTED,
      type: "boolean",
      label: "Password protected",
      value: (room) => (room.config.password !== "" ? "1" : "0"),
      submit(values, draft) {
        const value = submittedBoolean(PROTECTED, values);
        if (value === false) draft.password = "";
        else if (value === true && draft.password === "") throw unacceptable(PROTECTED, `0 unless ${SECRET} sets a password`);
      },
    },
  ],
  roomFeatures: (room) => [room.config.password !== "" ? "muc_passwordprotected" : "muc_unsecured"],
  preJoin: [
    {
      priority: 40,
      check({ room, stanza }) {
        const secret = room?.config.password ?? "";
        if (secret === "") return undefined;
        const given = stanza.getChild("x", NS.MUC)?.getChildText("password") ?? "";
        return sameSecret(given, secret) ? undefined : refuse.notAuthorized("A password is required to enter this room");
      },
    },
  ],
};
