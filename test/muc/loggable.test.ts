import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { FEATURES } from "../../src/muc/features/index.ts";
import type { Feature } from "../../src/muc/hooks.ts";
import { loggable } from "../../src/muc/loggable.ts";
import { MucService } from "../../src/muc/service.ts";
import { DATA, DOMAIN, MUC, MUC_OWNER, errorCondition, xml } from "./fixture.ts";

/** Room passwords never reach a log line (XEP-0045 §7.2.6, §10.2 roomsecret). */

const JOIN = `<presence from='bob@b.test/pc' to='vault@${DOMAIN}/Bob'><x xmlns='${MUC}'><password>cauldronburn</password></x></presence>`;
const FORM = `<iq type='set' id='c' from='owner@a.test/x' to='vault@${DOMAIN}'><query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='muc#roomconfig_roomsecret'><value>cauldronburn</value></field><field var='muc#roomconfig_roomname'><value>Vault</value></field></x></query></iq>`;

describe("loggable stanzas", () => {
  test("a join's password and a form's roomsecret are redacted; the rest stays, the stanza itself is untouched", () => {
    const join = xml(JOIN);
    expect(loggable(join)).not.toContain("cauldronburn");
    expect(loggable(join)).toContain("[redacted]");
    expect(loggable(join)).toContain("bob@b.test/pc");
    expect(join.toString()).toContain("cauldronburn");
    const form = loggable(xml(FORM));
    expect(form).not.toContain("cauldronburn");
    expect(form).toContain("Vault");
  });

  test("a stanza whose handler hits a bug is logged without the password, and answered internal-server-error", () => {
    const lines: string[] = [];
    const logger = createLogger("debug", { write: (s: string) => void lines.push(s) });
    const buggy: Feature = { name: "buggy", preJoin: [{ priority: 1000, check: () => { throw new TypeError("boom"); } }] };
    const service = new MucService({ domain: DOMAIN, secret: "t", features: [...FEATURES, buggy], logger });
    const out: ReturnType<typeof xml>[] = [];
    service.handle(xml(JOIN), out);
    expect(errorCondition(out[0]!)).toBe("internal-server-error");
    expect(lines.some((l) => l.includes("bug: stanza handler threw"))).toBe(true);
    expect(lines.join("")).not.toContain("cauldronburn");
  });
});
