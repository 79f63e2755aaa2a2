/**
 * Rooms, the archive and the occupants outlive mucgate's process, on both
 * databases (`storage = sqlite:…`, the default, and `postgres://…`), through
 * a real Prosody with real clients:
 * - a room made persistent with the form Gajim submits survives a restart
 *   with its name, owner, member, subject and history;
 * - the archive answers XEP-0313 queries (filters, RSM both ways);
 * - a message someone received is in the archive after a SIGKILL;
 * - a SIGTERM and a start are invisible to the occupants, and a session that
 *   went away meanwhile is found and removed (333);
 * - messages past `muc_log_expires_after` are dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { groupchat, statusCodes, xml, type Element, type TestClient } from "./harness/client.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { startPostgres, type PostgresServer } from "./harness/postgres.ts";
import { useRig } from "./harness/rig.ts";
import { GAJIM_PUBLIC } from "../support/gajim-presets.ts";
import { NS_DELAY, NS_DISCO_INFO, NS_MUC_OWNER, isSelfPresence, join } from "./muc-fixture.ts";

const MAM = "urn:xmpp:mam:2";
const RSM = "http://jabber.org/protocol/rsm";
const DATA = "jabber:x:data";
const REGISTER = "jabber:iq:register";

const rig = useRig({ mucgates: {} });

let postgres: PostgresServer | undefined;
afterAll(async () => {
  await postgres?.stop();
});

/** Ask for the owner form and submit it as Gajim does: every offered field, with the preset's values where it has one. */
async function configureLikeGajim(owner: TestClient, room: string, preset: Readonly<Record<string, string>>): Promise<Element> {
  const form = (await owner.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })))).getChild("query", NS_MUC_OWNER)!.getChild("x", DATA)!;
  const fields = form.getChildren("field").map((f) => {
    const name = f.attrs.var!;
    const values = name in preset ? [preset[name]!] : f.getChildren("value").map((v) => v.getText());
    return xml("field", { var: name }, ...values.map((v) => xml("value", {}, v)));
  });
  return owner.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: DATA, type: "submit" }, ...fields))));
}

interface Mam {
  bodies: string[];
  ids: string[];
  fin: Element;
}

let queries = 0;
async function mam(client: TestClient, room: string, ...children: Element[]): Promise<Mam> {
  const queryid = `q${++queries}`;
  const start = client.mark();
  const answer = await client.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: MAM, queryid }, ...children)));
  if (answer.attrs.type !== "result") throw new Error(`MAM query refused: ${answer.toString()}`);
  const results = client.stanzas.slice(start).filter((s) => s.name === "message" && s.getChild("result", MAM)?.attrs.queryid === queryid);
  return {
    bodies: results.map((m) => m.getChild("result", MAM)!.getChild("forwarded")!.getChild("message")!.getChildText("body") ?? ""),
    ids: results.map((m) => m.getChild("result", MAM)!.attrs.id!),
    fin: answer.getChild("fin", MAM)!,
  };
}

const rsm = (...children: Element[]) => xml("set", { xmlns: RSM }, ...children);
const mamForm = (fields: Record<string, string>) =>
  xml(
    "x",
    { xmlns: DATA, type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, MAM)),
    ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))),
  );

async function say(from: TestClient, to: TestClient, room: string, body: string): Promise<void> {
  await from.send(groupchat(room, body));
  await to.waitFor((s) => s.name === "message" && s.getChildText("body") === body);
}

for (const kind of ["sqlite", "postgres"] as const) {
  describe(`on ${kind}`, () => {
    beforeAll(async () => {
      if (kind === "postgres") postgres ??= await startPostgres();
    }, 60_000);

    async function launch(config: Record<string, unknown> = {}): Promise<MucgateProcess> {
      const storage = kind === "postgres" ? { storage: await postgres!.createDatabase() } : {};
      const m = await startMucgate({ prosody: rig.prosody, authUrl: rig.auth.url, config: { ...storage, ...config } });
      rig.afterTest(() => m.stop("SIGKILL"));
      return m;
    }

    test("a room made persistent with Gajim's form survives a restart with its name, owner, member, subject and history", async () => {
      const m = await launch();
      const room = rig.room(`club-${kind}`);
      const alice = await rig.client("alice");
      const joined = await join(alice, room, "Alice");
      expect(statusCodes(joined.self)).toContain(201);
      expect((await configureLikeGajim(alice, room, GAJIM_PUBLIC)).attrs.type).toBe("result");
      const bob = await rig.client("bob");
      // Bob registers (§7.10): a member with a reserved nick.
      const registered = await bob.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: REGISTER },
            xml(
              "x",
              { xmlns: DATA, type: "submit" },
              xml("field", { var: "FORM_TYPE" }, xml("value", {}, "http://jabber.org/protocol/muc#register")),
              xml("field", { var: "muc#register_roomnick" }, xml("value", {}, "Bob")),
            ),
          ),
        ),
      );
      expect(registered.attrs.type).toBe("result");
      await join(bob, room, "Bob");
      await alice.send(xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "Dune, chapter 1")));
      await bob.waitFor((s) => s.getChildText("subject") === "Dune, chapter 1");
      for (const body of ["first", "second", "third"]) await say(alice, bob, room, body);
      await alice.stop();
      await bob.stop();

      await m.restart();
      const info = await (await rig.client("carol")).iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })));
      const query = info.getChild("query", NS_DISCO_INFO)!;
      expect(query.getChild("identity")!.attrs.name).toBe("Book Club");
      expect(query.getChildren("feature").map((f) => f.attrs.var)).toEqual(expect.arrayContaining(["muc_persistent", "muc_public", MAM]));

      const carol = await rig.client("carol");
      const seen = await join(carol, room, "Carol");
      expect(statusCodes(seen.self)).not.toContain(201);
      expect(seen.self.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs.affiliation).toBe("none");
      const history = seen.received.filter((s) => s.name === "message" && s.getChild("body"));
      expect(history.map((s) => s.getChildText("body"))).toEqual(["first", "second", "third"]);
      for (const h of history) expect(h.getChild("delay", NS_DELAY)).toBeDefined();
      expect(seen.subject.getChildText("subject")).toBe("Dune, chapter 1");
      expect(seen.subject.getChild("delay", NS_DELAY)).toBeDefined();

      const alice2 = await rig.client("alice");
      const back = await join(alice2, room, "Alice");
      expect(back.self.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs.affiliation).toBe("owner");
      const bob2 = await rig.client("bob");
      const bobBack = await join(bob2, room, "Bob");
      expect(bobBack.self.getChild("x", "http://jabber.org/protocol/muc#user")!.getChild("item")!.attrs.affiliation).toBe("member");
    });

    test("the archive over MAM: everything, with, start, RSM forward and the last page backwards, count and complete", async () => {
      await launch();
      const room = rig.room(`archive-${kind}`);
      const alice = await rig.client("alice");
      const bob = await rig.client("bob");
      await join(alice, room, "Alice");
      await join(bob, room, "Bob");
      for (let i = 1; i <= 6; i++) await say(i % 2 ? alice : bob, i % 2 ? bob : alice, room, `m${i}`);

      const all = await mam(bob, room);
      expect(all.bodies).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
      expect(all.fin.attrs.complete).toBe("true");
      expect((await mam(bob, room, mamForm({ with: `${room}/Bob` }))).bodies).toEqual(["m2", "m4", "m6"]);

      const one = await mam(bob, room, rsm(xml("max", {}, "4")));
      expect(one.bodies).toEqual(["m1", "m2", "m3", "m4"]);
      expect(one.fin.attrs.complete).toBeUndefined();
      const two = await mam(bob, room, rsm(xml("max", {}, "4"), xml("after", {}, one.ids.at(-1)!)));
      expect(two.bodies).toEqual(["m5", "m6"]);
      expect(two.fin.attrs.complete).toBe("true");
      const last = await mam(bob, room, rsm(xml("max", {}, "2"), xml("before")));
      expect(last.bodies).toEqual(["m5", "m6"]);
      expect(last.fin.getChild("set", RSM)!.getChildText("count")).toBe("6");
      const since = await mam(bob, room, mamForm({ "after-id": all.ids[3]! }));
      expect(since.bodies).toEqual(["m5", "m6"]);

      // Every copy an occupant got carries the id the archive knows it by.
      const live = bob.stanzas.find((s) => s.name === "message" && s.getChildText("body") === "m1" && !s.getChild("result", MAM))!;
      expect(live.getChild("stanza-id", "urn:xmpp:sid:0")!.attrs).toMatchObject({ by: room, id: all.ids[0] });
    });

    test("a message another occupant received is in the archive after a SIGKILL right after", async () => {
      const m = await launch();
      const room = rig.room(`durable-${kind}`);
      const alice = await rig.client("alice");
      const bob = await rig.client("bob");
      await join(alice, room, "Alice");
      await join(bob, room, "Bob");
      await alice.send(groupchat(room, "remember me"));
      await bob.waitFor((s) => s.name === "message" && s.getChildText("body") === "remember me");
      await m.restart({ signal: "SIGKILL", whileStopped: async (code) => expect(code).toBe(128 + 9) });
      const carol = await rig.client("carol");
      expect((await mam(carol, room)).bodies).toContain("remember me");
    });

    test("SIGTERM and a start are invisible in the room; a session that went away meanwhile is found and leaves with 333", async () => {
      const m = await launch();
      const room = rig.room(`restart-${kind}`);
      const alice = await rig.client("alice");
      const bob = await rig.client("bob");
      const carol = await rig.client("carol");
      for (const [c, nick] of [
        [alice, "Alice"],
        [bob, "Bob"],
        [carol, "Carol"],
      ] as const)
        await join(c, room, nick);
      for (const c of [alice, bob]) await c.waitFor((s) => s.name === "presence" && s.attrs.from === `${room}/Carol`);
      const mark = { alice: alice.mark(), bob: bob.mark() };

      await m.restart({
        signal: "SIGTERM",
        whileStopped: async (code) => {
          expect(code).toBe(0);
          expect(m.json().at(-1)).toMatchObject({ msg: "mucgate stopped", occupantsKept: 3 });
          await carol.stop(); // gone while mucgate was away: its unavailable never reached the room
        },
      });

      await say(alice, bob, room, "still here?");
      const gone = await alice.waitFor((s) => s.name === "presence" && s.attrs.type === "unavailable" && s.attrs.from === `${room}/Carol`, { timeout: 10_000 });
      expect(statusCodes(gone)).toEqual([333]);
      // Nobody else left or rejoined, and nobody got a 332.
      for (const [c, since] of [
        [alice, mark.alice],
        [bob, mark.bob],
      ] as const) {
        const presences = c.stanzas.slice(since).filter((s) => s.name === "presence" && s.attrs.from !== `${room}/Carol`);
        expect(presences.map((s) => s.toString())).toEqual([]);
      }
      // A new join sees who is really there.
      const dave = await rig.client("dave");
      const seen = await join(dave, room, "Dave");
      const others = seen.received.filter((s) => s.name === "presence" && !isSelfPresence(room)(s)).map((s) => s.attrs.from);
      expect(others.sort()).toEqual([`${room}/Alice`, `${room}/Bob`]);
    });

    test("muc_log_expires_after drops what is older from the archive (and so from the join history)", async () => {
      const m = await launch({ muc_log_expires_after: 1, muc_room_default_persistent: true });
      const room = rig.room(`expire-${kind}`);
      const alice = await rig.client("alice");
      await join(alice, room, "Alice");
      await alice.send(groupchat(room, "soon gone"));
      await alice.waitFor((s) => s.name === "message" && s.getChildText("body") === "soon gone");
      await alice.stop();
      await Bun.sleep(1100);
      await m.restart(); // the expiry runs at start, then regularly
      await m.waitForLog((l) => l.includes("expired archived messages"), 5000);
      const bob = await rig.client("bob");
      expect((await mam(bob, room)).bodies).toEqual([]);
      const seen = await join(bob, room, "Bob");
      expect(seen.received.filter((s) => s.getChildText("body") === "soon gone")).toEqual([]);
    });
  });
}
