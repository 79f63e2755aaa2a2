import { describe, expect, test } from "bun:test";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { DATA, DELAY, DISCO_INFO, DOMAIN, MUC_OWNER, MUC_REGISTER, MUC_ROOMCONFIG, REGISTER, STANZAS, fixture, itemOf, statuses, to, xml } from "./fixture.ts";

/**
 * Rooms as storage keeps them (XEP-0045 §10.1.3 persistent rooms, §10.2
 * persistentroom): the fixture records every change in a MemoryStorage, loads
 * rooms from it on first use and `restart()`s as a new process would.
 */

const ALICE = "alice@a.test/phone"; // owner
const BOB = "bob@b.test/pc";
const CAROL = "carol@c.test/home";
const ROOM = `lobby@${DOMAIN}`;

const configure = (fields: Record<string, string>) =>
  `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_ROOMCONFIG}</value></field>${Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join("")}</x></query>`;
const register = (nick: string) =>
  `<query xmlns='${REGISTER}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE'><value>${MUC_REGISTER}</value></field><field var='muc#register_roomnick'><value>${nick}</value></field></x></query>`;

function stored() {
  return fixture({ storage: new MemoryStorage() });
}

/** A persistent, named room with a subject, a registered member and three messages; everyone has left. */
function usedRoom() {
  const f = stored();
  f.join(ALICE, "lobby", "Alice");
  f.iq(ALICE, ROOM, "set", configure({ "muc#roomconfig_persistentroom": "1", "muc#roomconfig_roomname": "The Lobby" }));
  f.send(`<message type='groupchat' from='${ALICE}' to='${ROOM}'><subject>Welcome</subject></message>`);
  f.iq(BOB, ROOM, "set", register("Bobby"));
  f.join(BOB, "lobby", "Bobby");
  for (const body of ["one", "two", "three"]) f.say(ALICE, "lobby", body, body);
  f.leave(BOB, "lobby", "Bobby");
  f.leave(ALICE, "lobby", "Alice");
  return f;
}

const bodies = (out: ReturnType<ReturnType<typeof stored>["send"]>) =>
  out.filter((s) => s.name === "message" && s.getChild("body")).map((s) => s.getChildText("body"));

describe("a persistent room", () => {
  test("leaves memory with its last occupant and stays in storage", () => {
    const f = usedRoom();
    expect(f.service.room(ROOM)).toBeUndefined();
    const record = f.storage.loadRoom(ROOM) as Exclude<ReturnType<MemoryStorage["loadRoom"]>, Promise<unknown>>;
    expect(record?.record).toMatchObject({ jid: ROOM, persistent: true, name: "The Lobby" });
    expect(record?.occupants).toEqual([]);
  });

  for (const when of ["after it emptied", "after a restart"]) {
    test(`${when}, a newcomer finds its name, subject with its delay, and history; no 201, and nobody else became owner`, () => {
      const f = usedRoom();
      if (when === "after a restart") f.restart();
      const info = f.iq(CAROL, ROOM, "get", `<query xmlns='${DISCO_INFO}'/>`)[0]!.getChild("query")!;
      expect(info.getChild("identity")!.attrs.name).toBe("The Lobby");
      expect(info.getChildren("feature").map((x) => x.attrs.var)).toContain("muc_persistent");

      const out = to(f.join(CAROL, "lobby", "Carol"), CAROL);
      const self = out.find((s) => s.name === "presence" && statuses(s).includes("110"))!;
      expect(statuses(self)).not.toContain("201");
      expect(itemOf(self)!.attrs.affiliation).toBe("none");
      expect(bodies(out)).toEqual(["one", "two", "three"]);
      for (const m of out.filter((s) => s.getChild("body"))) expect(m.getChild("delay", DELAY)).toBeDefined();
      const subject = out.find((s) => s.getChild("subject"))!;
      expect(subject.getChildText("subject")).toBe("Welcome");
      expect(subject.attrs.from).toBe(`${ROOM}/Alice`);
      expect(subject.getChild("delay", DELAY)!.attrs.stamp).toBe("2026-01-01T00:00:00Z");
    });

    test(`${when}, the owner is still owner and the registered member keeps nick and membership`, () => {
      const f = usedRoom();
      if (when === "after a restart") f.restart();
      const alice = to(f.join(ALICE, "lobby", "Alice"), ALICE).find((s) => statuses(s).includes("110"))!;
      expect(itemOf(alice)!.attrs.affiliation).toBe("owner");
      const bob = to(f.join(BOB, "lobby", "Bobby"), BOB).find((s) => statuses(s).includes("110"))!;
      expect(itemOf(bob)!.attrs.affiliation).toBe("member");
      // §7.10: the nick stays reserved for him.
      const taken = f.join(CAROL, "lobby", "Bobby");
      expect(taken.map((s) => s.getChild("error")?.getChild("conflict", STANZAS) !== undefined)).toEqual([true]);
    });
  }

  test("destroying it (§10.9) forgets it in storage: the next join creates a new room", () => {
    const f = usedRoom();
    f.join(ALICE, "lobby", "Alice");
    f.iq(ALICE, ROOM, "set", `<query xmlns='${MUC_OWNER}'><destroy/></query>`);
    expect(f.storage.loadRoom(ROOM)).toBeUndefined();
    f.restart();
    const self = to(f.join(CAROL, "lobby", "Carol"), CAROL).find((s) => statuses(s).includes("110"))!;
    expect(statuses(self)).toContain("201");
  });
});

describe("a temporary room", () => {
  test("is forgotten by storage when its last occupant leaves", () => {
    const f = stored();
    f.join(ALICE, "lobby", "Alice");
    f.say(ALICE, "lobby", "hello");
    expect(f.storage.loadRoom(ROOM)).toBeDefined();
    f.leave(ALICE, "lobby", "Alice");
    expect(f.storage.loadRoom(ROOM)).toBeUndefined();
  });
});

describe("a restart that keeps the occupants", () => {
  function occupied() {
    const f = stored();
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    f.join("bob@b.test/phone", "lobby", "Bob");
    f.presence("bob@b.test/phone", "lobby", "Bob", "<show>away</show><status>lunch</status>");
    f.say(BOB, "lobby", "before");
    f.restart();
    return f;
  }

  test("brings the room back with its occupants, roles, sessions and presence; messages flow at once", () => {
    const f = occupied();
    const room = f.service.room(ROOM)!;
    expect([...room.occupants.keys()]).toEqual(["Alice", "Bob"]);
    expect(room.occupants.get("Alice")!.role).toBe("moderator");
    expect(room.occupants.get("Alice")!.affiliation).toBe("owner");
    expect([...room.sessions.keys()].sort()).toEqual([ALICE, BOB, "bob@b.test/phone"].sort());
    const out = f.say(ALICE, "lobby", "after");
    expect(out.filter((s) => s.name === "message").map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB, "bob@b.test/phone"].sort());
    // A newcomer sees Bob as he last showed himself, and the history from before the restart.
    const carol = to(f.join(CAROL, "lobby", "Carol"), CAROL);
    const bob = carol.find((s) => s.name === "presence" && s.attrs.from === `${ROOM}/Bob`)!;
    expect(bob.getChildText("status")).toBe("lunch");
    expect(bodies(carol)).toEqual(["before", "after"]);
  });

  test("a restored session found gone by the check leaves with 333; an answer keeps it", () => {
    const f = occupied();
    const probeBob = f.service.probe(ROOM, BOB)!;
    const probeAlice = f.service.probe(ROOM, ALICE)!;
    expect(probeBob.attrs).toMatchObject({ type: "get", from: ROOM, to: BOB });
    // Alice's client answers; Bob's server answers for a resource that is no more (RFC 6121 §8.5.3.2.1).
    expect(f.send(xml(`<iq type='result' from='${ALICE}' to='${ROOM}' id='${probeAlice.attrs.id}'/>`))).toEqual([]);
    const out = f.send(
      xml(`<iq type='error' from='${BOB}' to='${ROOM}' id='${probeBob.attrs.id}'><error type='cancel'><service-unavailable xmlns='${STANZAS}'/></error></iq>`),
    );
    // Bob's other session stays: only that session is gone, silently (§7.14 multi-session).
    expect(out.map((s) => [s.attrs.to, s.attrs.type])).toEqual([[BOB, "unavailable"]]);
    const probePhone = f.service.probe(ROOM, "bob@b.test/phone")!;
    const gone = f.send(
      xml(`<iq type='error' from='bob@b.test/phone' to='${ROOM}' id='${probePhone.attrs.id}'><error type='cancel'><item-not-found xmlns='${STANZAS}'/></error></iq>`),
    );
    const toAlice = to(gone, ALICE).find((s) => s.attrs.type === "unavailable")!;
    expect(toAlice.attrs.from).toBe(`${ROOM}/Bob`);
    expect(statuses(toAlice)).toEqual(["333"]);
    expect([...f.service.room(ROOM)!.occupants.keys()]).toEqual(["Alice"]);
  });
});
