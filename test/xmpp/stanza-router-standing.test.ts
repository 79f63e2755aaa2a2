import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { AuthClient } from "../../src/auth/auth-client.ts";
import { Gate } from "../../src/auth/gate.ts";
import { silentLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import type { RoomChange } from "../../src/muc/room-change.ts";
import { MucService } from "../../src/muc/service.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import { DOMAIN, MUC, errorCondition, itemOf, statuses, xml } from "../muc/fixture.ts";

/**
 * The authorization answer's `affiliation` and `role` (README "Join
 * authorization"), from a real HTTP service through the real gate and
 * router into the core: what the joiner and the room see, and what the room
 * records.
 */

const ROOM = `lobby@${DOMAIN}`;
const OWNER = "olga@a.test/desk";
const ALICE = "alice@a.test/phone";

/** Answers per nickname: `answers[nick]` as JSON, `{allowed: true}` otherwise. */
const answers = new Map<string, unknown>();
let server: ReturnType<typeof Bun.serve>;
let asked = 0;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      asked++;
      const nick = new URL(req.url).searchParams.get("nickname") ?? "";
      return Response.json(answers.get(nick) ?? { allowed: true });
    },
  });
});
afterAll(() => server.stop(true));

function harness() {
  const metrics = new Metrics();
  const service = new MucService({ domain: DOMAIN, now: () => Date.parse("2026-01-01T00:00:00Z"), secret: "test", metrics });
  const gate = new Gate({
    client: new AuthClient({ url: `http://127.0.0.1:${server.port}/auth`, timeout: 2 }),
    policy: () => true,
    ttl: 30,
    negativeTtl: 5,
    max: 100,
    maxConcurrency: 4,
    metrics,
  });
  const sent: Element[] = [];
  const changes: RoomChange[] = [];
  service.subscribe((_room, change) => changes.push(change));
  const router = new StanzaRouter({ service, authorizer: gate, send: (s) => sent.push(...s), logger: silentLogger, metrics });
  const waitFor = async (pred: (s: Element) => boolean): Promise<Element> => {
    for (let i = 0; i < 200; i++) {
      const found = sent.find(pred);
      if (found) return found;
      await Bun.sleep(5);
    }
    throw new Error(`not sent; got ${sent.map(String).join("\n")}`);
  };
  return {
    service,
    sent,
    changes,
    waitFor,
    async join(from: string, nick: string): Promise<Element> {
      router.route(xml(`<presence from='${from}' to='${ROOM}/${nick}'><x xmlns='${MUC}'/></presence>`));
      return waitFor((s) => s.name === "presence" && s.attrs.to === from && (s.attrs.type === "error" || statuses(s).includes("110")));
    },
  };
}

const standingOf = (presence: Element) => ({ affiliation: itemOf(presence)?.attrs.affiliation, role: itemOf(presence)?.attrs.role });

describe("the authorization answer's affiliation and role", () => {
  test("affiliation owner and role moderator: set in the room before the user enters, shown in its presence", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Alice", { allowed: true, affiliation: "admin", role: "moderator" });
    await h.join(OWNER, "Olga");
    h.changes.length = 0;
    const self = await h.join(ALICE, "Alice");
    expect(standingOf(self)).toEqual({ affiliation: "admin", role: "moderator" });
    expect(h.service.room(ROOM)!.affiliationOf("alice@a.test")).toBe("admin");
    // One affiliation change (the one the store records), before the occupant joined.
    expect(h.changes.map((c) => c.kind)).toEqual(["affiliation-changed", "occupant-joined"]);
    expect(h.changes[0]).toMatchObject({ jid: "alice@a.test", affiliation: "admin", previous: "none" });
    // The room sees the same standing.
    const seen = h.sent.find((s) => s.attrs.to === OWNER && s.attrs.from === `${ROOM}/Alice`)!;
    expect(standingOf(seen)).toEqual({ affiliation: "admin", role: "moderator" });
  });

  test("a role alone applies to this occupancy and leaves the affiliation alone", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Vic", { allowed: true, role: "visitor" });
    await h.join(OWNER, "Olga");
    const self = await h.join("vic@a.test/x", "Vic");
    expect(standingOf(self)).toEqual({ affiliation: "none", role: "visitor" });
    expect(h.changes.some((c) => c.kind === "affiliation-changed" && c.jid === "vic@a.test")).toBe(false);
  });

  test("an affiliation alone gives the role that affiliation gets (member: participant)", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Mem", { allowed: true, affiliation: "member" });
    await h.join(OWNER, "Olga");
    const self = await h.join("mem@a.test/x", "Mem");
    expect(standingOf(self)).toEqual({ affiliation: "member", role: "participant" });
  });

  test("absent fields change nothing: the creator is owner, a newcomer none", async () => {
    const h = harness();
    answers.delete("Olga");
    answers.delete("Nora");
    expect(standingOf(await h.join(OWNER, "Olga"))).toEqual({ affiliation: "owner", role: "moderator" });
    expect(standingOf(await h.join("nora@a.test/x", "Nora"))).toEqual({ affiliation: "none", role: "participant" });
  });

  test("the backend's word wins over the creator's owner: a creator given none is none", async () => {
    const h = harness();
    answers.set("Guest", { allowed: true, affiliation: "none", role: "participant" });
    const self = await h.join("guest@a.test/x", "Guest");
    expect(statuses(self)).toContain("201");
    expect(standingOf(self)).toEqual({ affiliation: "none", role: "participant" });
  });

  test("an invalid affiliation denies the join (fail closed): not-authorized, nothing in the room", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Bad", { allowed: true, affiliation: "superuser" });
    await h.join(OWNER, "Olga");
    const error = await h.join("bad@a.test/x", "Bad");
    expect(error.attrs.type).toBe("error");
    expect(errorCondition(error)).toBe("not-authorized");
    expect(h.service.room(ROOM)!.occupants.has("Bad")).toBe(false);
    expect(h.service.room(ROOM)!.affiliationOf("bad@a.test")).toBe("none");
  });

  test("the standing is cached with the decision: a second session gets it without asking again", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Multi", { allowed: true, role: "visitor" });
    await h.join(OWNER, "Olga");
    await h.join("multi@a.test/one", "Multi");
    const before = asked;
    const second = await h.join("multi@a.test/two", "Multi");
    expect(asked).toBe(before);
    expect(standingOf(second)).toEqual({ affiliation: "none", role: "visitor" });
  });

  test("a nick change's answer gives no standing", async () => {
    const h = harness();
    answers.set("Olga", { allowed: true });
    answers.set("Plain", { allowed: true });
    answers.set("Boss", { allowed: true, affiliation: "owner", role: "moderator" });
    await h.join(OWNER, "Olga");
    await h.join("plain@a.test/x", "Plain");
    h.sent.length = 0;
    // §7.6: the same session asks for another nick; the gate is asked, its standing not applied.
    await h.join("plain@a.test/x", "Boss");
    const renamed = await h.waitFor((s) => s.attrs.from === `${ROOM}/Boss` && s.attrs.to === "plain@a.test/x");
    expect(standingOf(renamed)).toEqual({ affiliation: "none", role: "participant" });
  });
});
