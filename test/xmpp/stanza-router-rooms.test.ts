import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import type { AuthQuestion, Decision, JoinAuthorizer } from "../../src/auth/types.ts";
import { silentLogger } from "../../src/log.ts";
import { MucService } from "../../src/muc/service.ts";
import type { StoredRoom } from "../../src/muc/storage.ts";
import { RoomLoader, type RoomSource } from "../../src/room-loader.ts";
import { StanzaRouter } from "../../src/xmpp/stanza-router.ts";
import { DOMAIN, MUC, errorCondition, errorType, itemOf, statuses, xml } from "../muc/fixture.ts";

/**
 * The router holds what is addressed to a room that is being read from
 * storage, and lets it go on, in order, once the room is in memory.
 */

const ROOM = `lobby@${DOMAIN}`;
const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";

const stored = (jid: string, owner: string): StoredRoom => ({
  record: { jid, persistent: true, public: true, name: "Stored", createdAt: 0, data: { v: 1, config: { name: "Stored" } } },
  affiliations: [{ jid: owner, affiliation: "owner", reason: undefined }],
  registrations: [],
  occupants: [],
});

/** Storage whose reads are answered by hand, as a slow database would. */
class SlowSource implements RoomSource {
  readonly rooms = new Map<string, StoredRoom>();
  readonly reads: { jid: string; resolve: (r: StoredRoom | undefined) => void; reject: (e: unknown) => void }[] = [];
  loadRoom(jid: string): Promise<StoredRoom | undefined> {
    return new Promise((resolve, reject) => this.reads.push({ jid, resolve, reject }));
  }
  answer(): void {
    const read = this.reads.shift()!;
    read.resolve(this.rooms.get(read.jid));
  }
  fail(): void {
    this.reads.shift()!.reject(new Error("database down"));
  }
}

/** A gate whose answers come by hand. */
class HandGate implements JoinAuthorizer {
  readonly pending: ((d: Decision) => void)[] = [];
  mustAuthorize = () => true;
  decide(_q: AuthQuestion): Promise<Decision> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
  allow(): void {
    this.pending.shift()!({ allowed: true, failure: false, reason: "", source: "fetch" });
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function harness(options: { gate?: HandGate; defer?: (task: () => void) => void } = {}) {
  const service = new MucService({ domain: DOMAIN, secret: "test" });
  const source = new SlowSource();
  const sent: Element[] = [];
  const router = new StanzaRouter({
    service,
    rooms: new RoomLoader({ service, source, logger: silentLogger }),
    authorizer: options.gate,
    send: (out) => sent.push(...out),
    defer: options.defer,
    logger: silentLogger,
  });
  return {
    service,
    source,
    sent,
    router,
    join: (from: string, nick: string, room = ROOM) =>
      router.route(xml(`<presence from='${from}' to='${room}/${nick}'><x xmlns='${MUC}'/></presence>`)),
    say: (from: string, body: string, room = ROOM) =>
      router.route(xml(`<message type='groupchat' id='${body}' from='${from}' to='${room}'><body>${body}</body></message>`)),
  };
}

const selfOf = (sent: Element[], to: string) => sent.find((s) => s.attrs.to === to && s.name === "presence" && statuses(s).includes("110"));

describe("rooms loaded from storage on first use", () => {
  test("stanzas to a room being loaded wait, then go on in arrival order into the stored room", async () => {
    const h = harness();
    h.source.rooms.set(ROOM, stored(ROOM, "alice@a.test"));
    h.join(BOB, "Bob");
    h.say(BOB, "first");
    h.join(ALICE, "Alice");
    expect(h.sent).toEqual([]);
    expect(h.source.reads).toHaveLength(1); // one read for the room, however many stanzas wait
    h.source.answer();
    await flush();
    // Bob came first but did not create the room: no 201, and no ownership of someone else's room.
    const bob = selfOf(h.sent, BOB)!;
    expect(statuses(bob)).toEqual(["110"]);
    expect(itemOf(bob)!.attrs.affiliation).toBe("none");
    expect(itemOf(selfOf(h.sent, ALICE)!)!.attrs.affiliation).toBe("owner");
    const firstEcho = h.sent.findIndex((s) => s.name === "message" && s.getChildText("body") === "first");
    const aliceSelf = h.sent.indexOf(selfOf(h.sent, ALICE)!);
    expect(firstEcho).toBeGreaterThan(-1);
    expect(firstEcho).toBeLessThan(aliceSelf);
    expect(h.service.room(ROOM)!.config.name).toBe("Stored");
  });

  test("what resumes later (after a room load, after the gate) runs where `defer` puts it, one task per stanza, in order", async () => {
    const tasks: (() => void)[] = [];
    const gate = new HandGate();
    const h = harness({ gate, defer: (task) => tasks.push(task) });
    h.join(ALICE, "Alice");
    h.join(BOB, "Bob");
    h.source.answer();
    await flush();
    // Loaded: each waiting join is a task of its own, so the link can hold the rest back between them.
    expect(tasks).toHaveLength(2);
    expect(gate.pending).toHaveLength(0);
    tasks.shift()!();
    tasks.shift()!();
    expect(gate.pending).toHaveLength(2);
    gate.allow();
    gate.allow();
    await flush();
    expect(h.sent).toEqual([]); // decided, but applied only when the tasks run
    expect(tasks).toHaveLength(2);
    tasks.shift()!();
    expect(selfOf(h.sent, ALICE)).toBeDefined();
    expect(selfOf(h.sent, BOB)).toBeUndefined();
    tasks.shift()!();
    expect(selfOf(h.sent, BOB)).toBeDefined();
  });

  test("a room storage does not have is created by its first join, and asked about once", async () => {
    const h = harness();
    h.join(ALICE, "Alice");
    h.source.answer();
    await flush();
    expect(statuses(selfOf(h.sent, ALICE)!).sort()).toEqual(["110", "201"]);
    h.say(ALICE, "hi");
    expect(h.source.reads).toHaveLength(0);
  });

  test("stanzas to other rooms and to the service are not held behind a load", async () => {
    const h = harness();
    h.join(ALICE, "Alice");
    h.router.route(xml(`<iq type='get' id='d' from='${BOB}' to='${DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`));
    expect(h.sent.map((s) => s.attrs.id)).toEqual(["d"]);
    h.join(BOB, "Bob", `other@${DOMAIN}`);
    expect(h.source.reads.map((r) => r.jid)).toEqual([ROOM, `other@${DOMAIN}`]);
  });

  test("when storage fails, what waited is refused with wait/internal-server-error and no room is created", async () => {
    const h = harness();
    h.join(ALICE, "Alice");
    h.say(ALICE, "lost?");
    h.router.route(xml(`<message type='error' from='${ALICE}' to='${ROOM}'><error type='cancel'/></message>`));
    h.source.fail();
    await flush();
    expect(h.sent.map((s) => [s.name, errorType(s), errorCondition(s)])).toEqual([
      ["presence", "wait", "internal-server-error"],
      ["message", "wait", "internal-server-error"],
    ]);
    expect(h.service.room(ROOM)).toBeUndefined();
  });

  test("an entry the gate allowed waits for its room to come back if it left memory meanwhile", async () => {
    const gate = new HandGate();
    const h = harness({ gate });
    h.source.rooms.set(ROOM, stored(ROOM, "alice@a.test"));
    h.join(ALICE, "Alice");
    h.source.answer();
    await flush();
    gate.allow();
    await flush();
    h.join(BOB, "Bob"); // held by the gate
    h.router.route(xml(`<presence type='unavailable' from='${ALICE}' to='${ROOM}/Alice'/>`));
    expect(h.service.room(ROOM)).toBeUndefined(); // the (temporary) room emptied and left memory
    h.sent.length = 0;
    gate.allow();
    await flush();
    expect(h.sent).toEqual([]); // waiting for storage again
    h.source.answer();
    await flush();
    const bob = selfOf(h.sent, BOB)!;
    expect(statuses(bob)).toEqual(["110"]);
    expect(itemOf(bob)!.attrs.affiliation).toBe("none");
  });
});
